import type { IncomingMessage } from "node:http";
import { BEARER_PROTOCOL_PREFIX, ServerClose, SUBPROTOCOL, WS_PATH_PREFIX } from "../../../shared/protocol/index.js";
import type { TokenService } from "../auth/tokens.js";

/** Parse `/ws/chat/{userId}` (query strings ignored — tokens never travel in URLs). */
export function parseChatPath(url: string | undefined): number | null {
  if (!url) return null;
  const pathname = url.split("?")[0]!;
  if (!pathname.startsWith(WS_PATH_PREFIX)) return null;
  const rest = pathname.slice(WS_PATH_PREFIX.length).replace(/\/$/, "");
  if (!/^[1-9]\d{0,15}$/.test(rest)) return null;
  const id = Number(rest);
  return Number.isSafeInteger(id) ? id : null;
}

/** The offered subprotocols, e.g. `["switchboard.v1", "bearer.eyJ…"]`. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers["sec-websocket-protocol"];
  if (!header) return [];
  return header
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

export function bearerFromProtocols(protocols: Iterable<string>): string | null {
  for (const p of protocols) if (p.startsWith(BEARER_PROTOCOL_PREFIX)) return p.slice(BEARER_PROTOCOL_PREFIX.length);
  return null;
}

/** ws `handleProtocols`: answer with our subprotocol, never echo the bearer entry. */
export function selectProtocol(protocols: Set<string>): string | false {
  return protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false;
}

/** Browsers always send Origin; a request without one is a non-browser client and allowed. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes("*") || allowed.includes(origin);
}

export type AuthOutcome = { ok: true; userId: number; sessionId: string } | { ok: false; close: (typeof ServerClose)[keyof typeof ServerClose] };

/**
 * Decide the socket's fate from its token and path. Token problems are reported after accept, with
 * 1008 + exact reason: an ended session gets `Session ended` (the client signs out), a token from
 * before session ids `Token expired` (the client refreshes and comes back with one).
 */
export async function authenticateUpgrade(tokens: TokenService, pathUserId: number, protocols: string[]): Promise<AuthOutcome> {
  const token = bearerFromProtocols(protocols);
  if (!token) return { ok: false, close: ServerClose.tokenInvalid };
  const verdict = await tokens.verifyAccess(token);
  if (!verdict.ok) {
    const close = {
      expired: ServerClose.tokenExpired,
      sessionless: ServerClose.tokenExpired,
      revoked: ServerClose.sessionEnded,
      invalid: ServerClose.tokenInvalid,
    }[verdict.reason];
    return { ok: false, close };
  }
  if (verdict.claims.userId !== pathUserId) return { ok: false, close: ServerClose.authenticationFailed };
  return { ok: true, userId: verdict.claims.userId, sessionId: verdict.claims.sessionId };
}
