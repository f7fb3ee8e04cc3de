/** What the web app shows when no extension answered. A fallback without it is a later issue. */
export function ExtensionNeeded() {
  return (
    <div className="extension-needed" data-testid="extension-needed">
      <h1>Switchboard</h1>
      <p>
        The Switchboard browser extension is needed: it holds this browser's one chat connection and shares it with every tab. Install it (chrome://extensions →
        Load unpacked → the <code>dist/extension</code> folder) and reload this page.
      </p>
    </div>
  );
}
