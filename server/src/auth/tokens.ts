import { createHash, randomBytes, randomUUID } from "node:crypto";
import { accessTokenCodec, type AccessTokenCodec } from "./access-token-codec.js";
import type { Store } from "../store/store.js";
import { openSuccessor, sealSuccessor } from "./refresh-successor.js";
import { SessionRevocations } from "./session-revocations.js";

/**
 * Access tokens are short-lived HS256 JWTs (`access-token-codec.ts`); refresh tokens are opaque random strings,
 * stored hashed, rotated on every use. Reusing a used refresh token revokes its whole family
 * (OAuth 2.0 Security BCP, RFC 9700 §4.14.2 "refresh token rotation") — except within the
 * reuse interval (`REFRESH_REUSE_INTERVAL_S`), where the same token gets the same successor, as
 * identity providers offer (Okta's "grace period", Auth0's "reuse interval"): two tabs of one
 * browser refreshing at nearly the same moment during a leader handover must not log the user out.
 *
 * A session is one refresh-token family: it starts at login and ends at logout, "log out
 * everywhere" or a detected reuse. Every access token names its session in the `sid` claim, and
 * a token of an ended session is refused at once (`SessionRevocations`), not when it expires.
 */

export interface AccessClaims {
  userId: number;
  /** The role when the token was issued. Informational only: authorisation reads the current role from the store. */
  role: string;
  /** The refresh-token family this access token belongs to (`sid` claim). */
  sessionId: string;
}

/**
 * `sessionless`: a token issued before access tokens carried `sid`. Treated like an expired one
 * (clients refresh it silently and get a token with `sid`), so an ended session cannot live on
 * through an older token.
 */
export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: "expired" | "invalid" | "revoked" | "sessionless" };

export type RefreshResult = { ok: true; userId: number; refreshToken: string; sessionId: string } | { ok: false; reason: "invalid" | "reused" };

/** A new session's first refresh token. */
export interface StartedSession {
  refreshToken: string;
  sessionId: string;
}

/**
 * Verified tokens kept, at most: a token's signature and claims are checked once, and every later
 * use (each REST request, each reconnect) is one map lookup plus the expiry and revocation checks.
 * Bounded so a flood of distinct valid tokens cannot grow memory; the oldest entry goes first.
 */
const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/** What a verified token says, kept until the token expires. */
interface VerifiedToken {
  claims: AccessClaims;
  expiresAtMs: number;
}

export class TokenService {
  readonly #codec: AccessTokenCodec;
  readonly #verified = new Map<string, VerifiedToken>();
  /** Ended sessions, checked on every verification. */
  readonly sessions: SessionRevocations;

  constructor(
    secret: string,
    private readonly store: Store,
    private readonly options: { accessTtlS: number; refreshTtlS: number; reuseIntervalS?: number },
    sessions?: SessionRevocations,
  ) {
    this.#codec = accessTokenCodec(secret);
    this.sessions = sessions ?? new SessionRevocations({ accessTtlMs: options.accessTtlS * 1000 });
  }

  get accessTtlS(): number {
    return this.options.accessTtlS;
  }

  async issueAccess(claims: AccessClaims, ttlS = this.options.accessTtlS): Promise<string> {
    return this.#codec.sign({
      sub: String(claims.userId),
      role: claims.role,
      sid: claims.sessionId,
      jti: randomUUID(),
      exp: Math.floor(Date.now() / 1000) + ttlS,
    });
  }

  async verifyAccess(token: string): Promise<VerifyResult> {
    if (!token || token.length > 4096) return { ok: false, reason: "invalid" };
    const verified = this.#verified.get(token) ?? this.#verifySignature(token);
    if (!("claims" in verified)) return verified;
    if (verified.expiresAtMs <= Date.now()) {
      this.#verified.delete(token);
      return { ok: false, reason: "expired" };
    }
    // Asked on every use, cached or not: an ended session is refused at once.
    if (this.sessions.isRevoked(verified.claims.sessionId)) return { ok: false, reason: "revoked" };
    return { ok: true, claims: verified.claims };
  }

  /** The full check (signature, issuer, audience, expiry, claims); a token that passes is remembered. */
  #verifySignature(token: string): VerifiedToken | Extract<VerifyResult, { ok: false }> {
    const decoded = this.#codec.verify(token);
    if (!decoded.ok) return decoded;
    const { payload } = decoded;
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || userId <= 0) return { ok: false, reason: "invalid" };
    const sessionId = payload.sid;
    if (sessionId === undefined) return { ok: false, reason: "sessionless" };
    if (typeof sessionId !== "string" || sessionId.length === 0 || sessionId.length > 64) return { ok: false, reason: "invalid" };
    const verified: VerifiedToken = {
      claims: { userId, role: typeof payload.role === "string" ? payload.role : "user", sessionId },
      expiresAtMs: payload.exp * 1000,
    };
    if (this.#verified.size >= VERIFIED_TOKEN_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, verified);
    return verified;
  }

  /** Login: a new session (refresh-token family) and its first refresh token. */
  async startSession(userId: number): Promise<StartedSession> {
    const sessionId = randomUUID();
    return { refreshToken: await this.issueRefresh(userId, sessionId), sessionId };
  }

  /** A new refresh token in a new family (login) or in `familyId` (rotation). */
  async issueRefresh(userId: number, familyId: string = randomUUID()): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    await this.#insertRefresh(token, userId, familyId);
    return token;
  }

  async #insertRefresh(token: string, userId: number, familyId: string): Promise<void> {
    await this.store.insertRefreshToken(hashToken(token), familyId, userId, new Date(Date.now() + this.options.refreshTtlS * 1000));
  }

  #withinReuseInterval(usedAt: string | Date | null): boolean {
    const intervalS = this.options.reuseIntervalS ?? 0;
    if (!usedAt || intervalS <= 0) return false;
    return Date.now() - new Date(usedAt).getTime() < intervalS * 1000;
  }

  async rotateRefresh(token: string): Promise<RefreshResult> {
    if (typeof token !== "string" || token.length < 20 || token.length > 200) return { ok: false, reason: "invalid" };
    // The successor is chosen first and sealed into the used row in the same UPDATE, so a second
    // request racing this one finds it there.
    const successor = randomBytes(32).toString("base64url");
    const { consumed, row } = await this.store.consumeRefreshToken(hashToken(token), sealSuccessor(token, successor));
    if (consumed && row) {
      await this.#insertRefresh(successor, Number(row.user_id), row.family_id);
      // A logout of this family may have run between our consume and our insert: the new token
      // would outlive it. Checked after the insert, so one of the two always sees the other.
      if (await this.store.refreshFamilyRevoked(row.family_id)) {
        await this.store.revokeRefreshFamily(row.family_id);
        return { ok: false, reason: "invalid" };
      }
      return { ok: true, userId: Number(row.user_id), refreshToken: successor, sessionId: row.family_id };
    }
    const again = row && !row.revoked_at && this.#withinReuseInterval(row.used_at) && row.successor_sealed ? openSuccessor(token, row.successor_sealed) : null;
    if (row && again) return { ok: true, userId: Number(row.user_id), refreshToken: again, sessionId: row.family_id };
    if (row && row.used_at && !row.revoked_at) {
      // A used token came back: someone holds a copy. Revoke the family (both holders log in
      // again) and end the session, so the copy's access tokens stop working too.
      await this.store.revokeRefreshFamily(row.family_id);
      await this.sessions.revoke([row.family_id]);
      return { ok: false, reason: "reused" };
    }
    return { ok: false, reason: "invalid" };
  }

  /** Logout: end the session the refresh token belongs to — its refresh tokens, access tokens and sockets. */
  async revokeRefresh(token: string): Promise<void> {
    if (typeof token !== "string" || token.length > 200) return;
    const { row } = await this.store.consumeRefreshToken(hashToken(token));
    if (!row) return;
    await this.store.revokeRefreshFamily(row.family_id);
    await this.sessions.revoke([row.family_id]);
  }

  /** "Log out everywhere": end every session of the user, the caller's included. */
  async endAllSessions(userId: number, currentSessionId: string): Promise<number> {
    const families = await this.store.revokeUserRefreshFamilies(userId);
    const sessionIds = [...new Set([currentSessionId, ...families])];
    await this.sessions.revoke(sessionIds);
    return sessionIds.length;
  }
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
