import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, ServerClose } from "../../shared/protocol/index.js";
import { DEFAULT_JWT_SECRET } from "../../server/src/config.js";
import { api, connectChat, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

// An access token signed before tokens carried `sid` (issued by the previous release) is answered
// like an expired one: clients refresh it silently and come back with a token that names its session.
describe("an access token without a session id", () => {
  const t = useTestServer();

  const legacyToken = (userId: number) =>
    new SignJWT({ role: "user" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(String(userId))
      .setIssuer("switchboard")
      .setAudience("switchboard-chat")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(DEFAULT_JWT_SECRET));

  it("gets 401 token_expired over REST and 1008 Token expired at the upgrade; a refresh gives a token that works", async () => {
    const session = await login(t.url, "alice");
    const legacy = await legacyToken(session.user.id);
    const refused = await api<{ error: { code: string } }>(t.url, legacy, "GET", RestPath.profileMe);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe(RestErrorCode.tokenExpired);
    expect(await connectChat(t.wsUrl, session.user.id, { token: legacy }).closed).toEqual(ServerClose.tokenExpired);

    const refreshed = await fetch(`${t.url}${RestPath.refresh}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    });
    const body = (await refreshed.json()) as { accessToken: string };
    expect((await api(t.url, body.accessToken, "GET", RestPath.profileMe)).status).toBe(200);
  });
});
