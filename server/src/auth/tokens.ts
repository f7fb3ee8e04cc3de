import { createHash, randomBytes, randomUUID } from "node:crypto";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";
import type { Store } from "../store/store.js";
import { openSuccessor, sealSuccessor } from "./refresh-successor.js";

/**
 * Access tokens are short-lived HS256 JWTs (jose); refresh tokens are opaque random strings,
 * stored hashed, rotated on every use. Reusing a used refresh token revokes its whole family
 * (OAuth 2.0 Security BCP, RFC 9700 §4.14.2 "refresh token rotation") — except within the
 * reuse interval (`REFRESH_REUSE_INTERVAL_S`), where the same token gets the same successor, as
 * identity providers offer (Okta's "grace period", Auth0's "reuse interval"): two tabs of one
 * browser refreshing at nearly the same moment during a leader handover must not log the user out.
 */

export interface AccessClaims {
  userId: number;
  role: string;
}

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: "expired" | "invalid" };

export type RefreshResult =
  | { ok: true; userId: number; refreshToken: string }
  | { ok: false; reason: "invalid" | "reused" };

const ISSUER = "switchboard";
const AUDIENCE = "switchboard-chat";

export class TokenService {
  readonly #key: Uint8Array;

  constructor(
    secret: string,
    private readonly store: Store,
    private readonly options: { accessTtlS: number; refreshTtlS: number; reuseIntervalS?: number },
  ) {
    this.#key = new TextEncoder().encode(secret);
  }

  get accessTtlS(): number {
    return this.options.accessTtlS;
  }

  async issueAccess(claims: AccessClaims, ttlS = this.options.accessTtlS): Promise<string> {
    return new SignJWT({ role: claims.role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(String(claims.userId))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlS)
      .sign(this.#key);
  }

  async verifyAccess(token: string): Promise<VerifyResult> {
    if (!token || token.length > 4096) return { ok: false, reason: "invalid" };
    try {
      const { payload } = await jwtVerify(token, this.#key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] });
      const userId = Number(payload.sub);
      if (!Number.isSafeInteger(userId) || userId <= 0) return { ok: false, reason: "invalid" };
      return { ok: true, claims: { userId, role: typeof payload.role === "string" ? payload.role : "user" } };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: "expired" };
      return { ok: false, reason: "invalid" };
    }
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
      return { ok: true, userId: Number(row.user_id), refreshToken: successor };
    }
    const again = row && !row.revoked_at && this.#withinReuseInterval(row.used_at) && row.successor_sealed ? openSuccessor(token, row.successor_sealed) : null;
    if (row && again) return { ok: true, userId: Number(row.user_id), refreshToken: again };
    if (row && row.used_at && !row.revoked_at) {
      // A used token came back: someone holds a copy. Revoke the family (both holders log in again).
      await this.store.revokeRefreshFamily(row.family_id);
      return { ok: false, reason: "reused" };
    }
    return { ok: false, reason: "invalid" };
  }

  async revokeRefresh(token: string): Promise<void> {
    if (typeof token !== "string" || token.length > 200) return;
    const { row } = await this.store.consumeRefreshToken(hashToken(token));
    if (row) await this.store.revokeRefreshFamily(row.family_id);
  }
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
