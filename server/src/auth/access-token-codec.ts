import { createSigner, createVerifier, TokenError } from "fast-jwt";

/**
 * Access tokens on the wire: HS256 JWTs with this issuer and audience, signed and checked by
 * fast-jwt, synchronously with `node:crypto`'s HMAC. jose 6 checks an HS256 signature through
 * WebCrypto, an asynchronous job on the thread pool: with the key imported once, 97–109 µs of
 * CPU a token (2 × AMD EPYC, 6,000 tokens, 50 at a time) against 12–32 µs here — and every connect
 * verifies a token it has not seen before (the verified-token cache in `tokens.ts` serves later
 * uses). The comparison peers of `bench:peers` check tokens with this same function.
 */
export const ISSUER = "switchboard";
export const AUDIENCE = "switchboard-chat";

/** What a valid token's payload holds, as far as this codec checked it (signature, iss, aud, exp). */
export type AccessPayload = Record<string, unknown> & { sub: string; exp: number };

export type DecodeResult = { ok: true; payload: AccessPayload } | { ok: false; reason: "expired" | "invalid" };

export interface AccessTokenCodec {
  /** Sign `claims` (`sub`, `exp` in seconds, the rest as given) with `iat`, `iss` and `aud` added. */
  sign(claims: Record<string, unknown> & { sub: string; exp: number }): string;
  /** Check signature, algorithm, issuer, audience and expiry; never throws. */
  verify(token: string): DecodeResult;
}

export function accessTokenCodec(secret: string): AccessTokenCodec {
  const sign = createSigner({ key: secret, algorithm: "HS256", iss: ISSUER, aud: AUDIENCE });
  const verify = createVerifier({ key: secret, algorithms: ["HS256"], allowedIss: ISSUER, allowedAud: AUDIENCE, requiredClaims: ["sub", "exp"] });
  return {
    sign: (claims) => sign(claims),
    verify(token) {
      try {
        const payload = verify(token) as Record<string, unknown>;
        if (typeof payload.sub !== "string" || typeof payload.exp !== "number") return { ok: false, reason: "invalid" };
        return { ok: true, payload: payload as AccessPayload };
      } catch (error) {
        if (error instanceof TokenError && error.code === TokenError.codes.expired) return { ok: false, reason: "expired" };
        return { ok: false, reason: "invalid" };
      }
    },
  };
}
