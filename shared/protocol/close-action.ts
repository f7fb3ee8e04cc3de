import { CloseCode, CloseReason } from "./close-codes.js";

/**
 * What a client must do after its socket closed. Decided by code AND exact reason.
 * The table it implements: docs/protocol.md#close-codes.
 */
export const CloseAction = {
  /** Another connection of this user took over: do not reconnect; offer "Use here". */
  stayClosedReplaced: "stay-closed-replaced",
  /** A normal close: do not reconnect. */
  stayClosed: "stay-closed",
  /** Reconnect with backoff. */
  reconnect: "reconnect",
  /**
   * Reconnect with backoff, but wait at least `RATE_LIMITED_RECONNECT_MIN_MS` first: the server
   * closed the socket for flooding, and reconnecting at once would only be limited again.
   */
  reconnectAfterCooldown: "reconnect-after-cooldown",
  /** Refresh the access token (rotation), then reconnect; if the refresh fails, log in. */
  refreshThenReconnect: "refresh-then-reconnect",
  /** Credentials are unusable: ask the user to log in; never retry by itself. */
  login: "login",
} as const;
export type CloseAction = (typeof CloseAction)[keyof typeof CloseAction];

/** Whether the first reconnect delay should be spread (jittered 0–5 s) to avoid a thundering herd. */
export function isServiceRestart(code: number, reason: string): boolean {
  return code === CloseCode.serviceRestart && reason === CloseReason.serviceRestart;
}

/**
 * Whether the server ended the session itself (logout here or elsewhere): the credentials are
 * revoked, so the client forgets them and shows itself signed out, not "sign in again".
 */
export function isSessionEnded(code: number, reason: string): boolean {
  return code === CloseCode.policyViolation && reason === CloseReason.sessionEnded;
}

/** The one mapping from a close (code, reason) to the client's next action. Pure. */
export function closeAction(code: number, reason: string): CloseAction {
  switch (code) {
    case CloseCode.normal:
      return reason === CloseReason.replaced ? CloseAction.stayClosedReplaced : CloseAction.stayClosed;
    case CloseCode.policyViolation:
      if (reason === CloseReason.tokenExpired) return CloseAction.refreshThenReconnect;
      if (reason === CloseReason.tokenInvalid || reason === CloseReason.authenticationFailed || reason === CloseReason.sessionEnded) {
        return CloseAction.login;
      }
      // Any other 1008 (e.g. "Protocol error") is not an authentication verdict: retry with backoff.
      return CloseAction.reconnect;
    case CloseCode.rateLimited:
      return reason === CloseReason.rateLimited ? CloseAction.reconnectAfterCooldown : CloseAction.reconnect;
    case CloseCode.heartbeatTimeout:
    case CloseCode.slowConsumer:
    case CloseCode.serviceRestart:
    default:
      // 1001, 1006, 1009, 1011, 1012, 4001, 4002 and anything unknown: abnormal, reconnect with backoff.
      return CloseAction.reconnect;
  }
}
