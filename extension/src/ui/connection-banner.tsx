import { ConnectionState, OutboxState, useConnectionState, useOutbox } from "../../../shared/sdk/index.js";

const TEXT: Record<ConnectionState, string> = {
  [ConnectionState.signedOut]: "Signed out — sign in to start chatting",
  [ConnectionState.connecting]: "Connecting…",
  [ConnectionState.open]: "Connected",
  [ConnectionState.backoff]: "Connection lost — reconnecting…",
  [ConnectionState.offline]: "Offline — waiting for the network",
  [ConnectionState.replaced]: "Active in another window",
  [ConnectionState.authRequired]: "Your session ended — sign in again",
};

/** One line for every connection state; "Use here" is the only way back from `replaced`. */
export function ConnectionBanner() {
  const { state, useHere } = useConnectionState();
  const waiting = useOutbox().filter((entry) => entry.state === OutboxState.pending).length;
  if (state === undefined)
    return (
      <div className="banner" data-testid="connection-banner" data-state="unknown">
        Waiting for the extension…
      </div>
    );
  return (
    <div className={`banner banner-${state}`} data-testid="connection-banner" data-state={state}>
      <span>{TEXT[state]}</span>
      {waiting > 0 && state !== ConnectionState.open && (
        <span data-testid="outbox-waiting" data-count={waiting}>
          {" "}
          — {waiting === 1 ? "1 message waits" : `${waiting} messages wait`} to be sent
        </span>
      )}
      {state === ConnectionState.replaced && (
        // biome-ignore lint/correctness/useHookAtTopLevel: useHere is the SDK's "Use here" action, not a hook.
        <button type="button" data-testid="use-here" onClick={() => void useHere()}>
          Use here
        </button>
      )}
    </div>
  );
}
