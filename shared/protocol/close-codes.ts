/**
 * WebSocket close codes and exact reasons the Switchboard server sends, grouped by what the
 * client does next. This file is the only place a close code or reason may be written down:
 * the server imports it to close sockets, the extension imports it (through `closeAction`) to
 * decide what to do. Reasons are compared exactly and never translated.
 *
 * Modelled on centrifuge-js `src/codes.ts` and engine.io-parser `commons.ts`.
 * The table with every pair and the client's action: docs/protocol.md#close-codes.
 */

export const CloseCode = {
  /** RFC 6455 normal closure. With `CloseReason.replaced` it means "a newer connection of this user took over". */
  normal: 1000,
  /** RFC 6455 "going away" — a browser navigating away. Treated as abnormal by the client (reconnect). */
  goingAway: 1001,
  /** RFC 6455 abnormal closure: never sent on the wire, reported locally when the TCP link dies. */
  abnormal: 1006,
  /** RFC 6455 policy violation: the server uses it for every authentication outcome. */
  policyViolation: 1008,
  /** RFC 6455 message too big: a frame over `WS_MAX_PAYLOAD_BYTES` (sent by `ws` itself). */
  messageTooBig: 1009,
  /** RFC 6455 service restart: graceful shutdown or rolling deploy. */
  serviceRestart: 1012,
  /** Application code: the server saw `HEARTBEAT_MAX_MISSED` pings go unanswered. */
  heartbeatTimeout: 4001,
  /**
   * Application code: the client left more than `WS_MAX_BUFFERED_BYTES` of frames unread (or did
   * not drain a replay in time). Reconnect with backoff and resume: nothing is lost.
   */
  slowConsumer: 4002,
  /**
   * Application code: the client kept sending after `rate_limited` error frames. Reconnect with
   * backoff, waiting at least `RATE_LIMITED_RECONNECT_MIN_MS` first (the budget refills meanwhile).
   * 4029 echoes HTTP 429.
   */
  rateLimited: 4029,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const CloseReason = {
  /** With 1000: replaced by a newer connection of the same user. Stay closed. */
  replaced: "New connection established",
  /** With 4001: the server saw 3 missed pongs. Reconnect with backoff. */
  heartbeatTimeout: "Heartbeat timeout",
  /** With 1008: the access token expired. Refresh it, then reconnect. */
  tokenExpired: "Token expired",
  /** With 1008: bad signature or format. Log in again. */
  tokenInvalid: "Token invalid",
  /** With 1008: e.g. the token's subject is not the path's user id. Log in again. */
  authenticationFailed: "Authentication failed",
  /** With 1012: graceful shutdown. Reconnect with a jittered first delay. */
  serviceRestart: "Service restart",
  /** With 1008: the client sent too many bad frames in a row. Reconnect with backoff. */
  protocolError: "Protocol error",
  /** With 1000: the user signed out on this browser. */
  signedOut: "Signed out",
  /** With 4002: too much unread data queued for this socket. Reconnect with backoff, then resume. */
  slowConsumer: "Slow consumer",
  /** With 4029: too many frames after `rate_limited` errors. Reconnect after a longer first delay. */
  rateLimited: "Rate limited",
  // --- Sessions (issue 9 item 5): added on its own line so merges with other new reasons stay easy.
  /** With 1008: the session was logged out (logout, "log out everywhere", a reused refresh token). Sign in again. */
  sessionEnded: "Session ended",
  /**
   * With 1000, sent by a client: this tab stops leading the web app's tabs (it closes, or the
   * extension takes over); the next hub connects at once. The server treats it as any normal close.
   */
  handedOver: "Handed over",
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** The exact (code, reason) pairs the server sends, by name. */
export const ServerClose = {
  replaced: { code: CloseCode.normal, reason: CloseReason.replaced },
  heartbeatTimeout: { code: CloseCode.heartbeatTimeout, reason: CloseReason.heartbeatTimeout },
  tokenExpired: { code: CloseCode.policyViolation, reason: CloseReason.tokenExpired },
  tokenInvalid: { code: CloseCode.policyViolation, reason: CloseReason.tokenInvalid },
  authenticationFailed: { code: CloseCode.policyViolation, reason: CloseReason.authenticationFailed },
  serviceRestart: { code: CloseCode.serviceRestart, reason: CloseReason.serviceRestart },
  protocolError: { code: CloseCode.policyViolation, reason: CloseReason.protocolError },
  signedOut: { code: CloseCode.normal, reason: CloseReason.signedOut },
  slowConsumer: { code: CloseCode.slowConsumer, reason: CloseReason.slowConsumer },
  rateLimited: { code: CloseCode.rateLimited, reason: CloseReason.rateLimited },
  // --- Sessions (issue 9 item 5): the socket's session was revoked; also sent to an upgrade with a revoked token.
  sessionEnded: { code: CloseCode.policyViolation, reason: CloseReason.sessionEnded },
} as const satisfies Record<string, { code: CloseCode; reason: CloseReason }>;

/** Subprotocol the server speaks; the client offers it first, then `bearer.<token>`. */
export const SUBPROTOCOL = "switchboard.v1";
/** Prefix of the subprotocol entry carrying the access token (never put tokens in URLs). */
export const BEARER_PROTOCOL_PREFIX = "bearer.";
/**
 * Prefix of the optional subprotocol entry carrying the client's stream position,
 * `resume.{epoch}.{seq}` (`resume..0` with nothing to resume). The server then replays right
 * after `welcome`, which says `resuming: true`, and no `resume` frame is needed: one client round
 * trip less on every (re)connect. A server that does not know the entry ignores it (its `welcome`
 * has no `resuming`), and the client sends the `resume` frame as before.
 */
export const RESUME_PROTOCOL_PREFIX = "resume.";

/** A stream position as the upgrade carries it. */
export interface UpgradeCursor {
  epoch: string;
  seq: number;
}

/** Epochs are server-made ids (UUIDs); anything else travels in a `resume` frame instead. */
const UPGRADE_EPOCH = /^[A-Za-z0-9_-]{0,64}$/;
const UPGRADE_SEQ = /^(0|[1-9]\d{0,15})$/;

/** The subprotocol entry for `cursor`, or null when its epoch cannot travel in a header token. */
export function resumeProtocol(cursor: UpgradeCursor): string | null {
  if (!UPGRADE_EPOCH.test(cursor.epoch) || !Number.isSafeInteger(cursor.seq) || cursor.seq < 0) return null;
  return `${RESUME_PROTOCOL_PREFIX}${cursor.epoch}.${cursor.seq}`;
}

/** The cursor of the first `resume.` entry among the offered subprotocols; null when there is none or it is malformed. */
export function resumeFromProtocols(protocols: Iterable<string>): UpgradeCursor | null {
  for (const p of protocols) {
    if (!p.startsWith(RESUME_PROTOCOL_PREFIX)) continue;
    const rest = p.slice(RESUME_PROTOCOL_PREFIX.length);
    const dot = rest.lastIndexOf(".");
    const epoch = rest.slice(0, Math.max(dot, 0));
    const seq = rest.slice(dot + 1);
    if (dot < 0 || !UPGRADE_EPOCH.test(epoch) || !UPGRADE_SEQ.test(seq)) return null;
    const value = Number(seq);
    return Number.isSafeInteger(value) ? { epoch, seq: value } : null;
  }
  return null;
}

/** Path prefix of the chat socket: `/ws/chat/{userId}`. */
export const WS_PATH_PREFIX = "/ws/chat/";
