/** The quiet line a web-app tab without the extension shows: what installing it would add. */
export function ExtensionHint() {
  return (
    <p className="muted extension-hint" data-testid="extension-hint">
      Tip: the Switchboard browser extension keeps one connection for the whole browser (not one per site), shows unread messages on its toolbar badge and can
      notify you while no tab is open.
    </p>
  );
}
