import { jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { AUDIENCE, accessTokenCodec, ISSUER } from "../../server/src/auth/access-token-codec.js";

// jose is the independent implementation here: tokens either library makes are standard HS256 JWTs.
const SECRET = "a-test-secret-of-a-decent-length-0123456789";
const key = new TextEncoder().encode(SECRET);
const codec = accessTokenCodec(SECRET);
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

function joseToken(options: { alg?: string; iss?: string; aud?: string; exp?: number | null; secret?: Uint8Array } = {}) {
  const jwt = new SignJWT({ sid: "s1", role: "user" })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setSubject("7")
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt();
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? inAMinute());
  return jwt.sign(options.secret ?? key);
}

describe("access-token codec (HS256 through fast-jwt)", () => {
  it("its tokens verify with jose, and jose's verify with it", async () => {
    const token = codec.sign({ sub: "7", sid: "s1", role: "user", jti: "j1", exp: inAMinute() });
    const { payload, protectedHeader } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] });
    expect(protectedHeader).toMatchObject({ alg: "HS256", typ: "JWT" });
    expect(payload).toMatchObject({ sub: "7", sid: "s1", role: "user", jti: "j1", iss: ISSUER, aud: AUDIENCE });
    expect(typeof payload.iat).toBe("number");
    expect(codec.verify(await joseToken())).toMatchObject({ ok: true, payload: { sub: "7", sid: "s1" } });
  });

  it("an expired token is `expired`; everything else wrong is `invalid`", async () => {
    expect(codec.verify(await joseToken({ exp: Math.floor(Date.now() / 1000) - 5 }))).toEqual({ ok: false, reason: "expired" });
    const invalid = [
      await joseToken({ alg: "HS512" }),
      await joseToken({ iss: "someone-else" }),
      await joseToken({ aud: "another-app" }),
      await joseToken({ exp: null }),
      await joseToken({ secret: new TextEncoder().encode("not-the-secret-not-the-secret-not-the-secret") }),
      `${(await joseToken()).slice(0, -2)}xx`,
      "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI3IiwiaXNzIjoic3dpdGNoYm9hcmQiLCJhdWQiOiJzd2l0Y2hib2FyZC1jaGF0In0.",
      "not a token",
      "",
    ];
    for (const token of invalid) expect(codec.verify(token), token).toEqual({ ok: false, reason: "invalid" });
  });
});
