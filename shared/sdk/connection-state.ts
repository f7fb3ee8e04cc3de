/**
 * The states of the one connection the extension's service worker holds, as every tab sees them.
 * Changed only through the service worker's `setState(next)`, which logs `old -> new` and tells every tab.
 */
export const ConnectionState = {
  /** No credentials: the UI shows the sign-in form. */
  signedOut: "signed-out",
  /** A socket is being opened (or a token refreshed before opening one). */
  connecting: "connecting",
  /** The socket is open and the server said `welcome`. */
  open: "open",
  /** Waiting before the next attempt (`backoff()` from shared/protocol). */
  backoff: "backoff",
  /** The browser reports no network: waiting for connectivity, not burning attempts. */
  offline: "offline",
  /** Another browser took over (1000 + "New connection established"): stays closed until "Use here". */
  replaced: "replaced",
  /** Credentials are unusable (refresh failed, token invalid): stays closed until the user signs in. */
  authRequired: "auth-required",
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** States in which the service worker will not open a socket by itself. */
export function isParked(state: ConnectionState): boolean {
  return state === ConnectionState.signedOut || state === ConnectionState.replaced || state === ConnectionState.authRequired;
}
