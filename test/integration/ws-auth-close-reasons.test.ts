import { SignJWT } from "jose";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CloseCode, CloseReason, EXTENSION_ORIGIN, ServerFrameType, SUBPROTOCOL } from "../../shared/protocol/index.js";
import { TokenService } from "../../server/src/auth/tokens.js";
import { DEFAULT_JWT_SECRET } from "../../server/src/config.js";
import type { Store } from "../../server/src/store/store.js";
import { connectChat, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("socket authentication and Origin", () => {
  const t = useTestServer({ ALLOWED_ORIGINS: "https://chat.example.com," + EXTENSION_ORIGIN });

  const closeOf = async (token: string | null, userId: number | string = 1) => {
    const client = connectChat(t.wsUrl, userId, { token });
    return client.closed;
  };

  it("a missing token → 1008 Token invalid", async () => {
    expect(await closeOf(null)).toEqual({ code: CloseCode.policyViolation, reason: CloseReason.tokenInvalid });
  });

  it("a malformed or wrongly signed token → 1008 Token invalid", async () => {
    expect(await closeOf("not-a-jwt")).toEqual({ code: CloseCode.policyViolation, reason: CloseReason.tokenInvalid });
    const forged = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("1")
      .setIssuer("switchboard")
      .setAudience("switchboard-chat")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-xx"));
    expect(await closeOf(forged)).toEqual({ code: CloseCode.policyViolation, reason: CloseReason.tokenInvalid });
  });

  it("an expired token → 1008 Token expired", async () => {
    // Signed with the server's own key, expired a minute ago (no waiting on the clock).
    const tokens = new TokenService(DEFAULT_JWT_SECRET, null as unknown as Store, { accessTtlS: 900, refreshTtlS: 900 });
    const expired = await tokens.issueAccess({ userId: 1, role: "user", sessionId: randomUUID() }, -60);
    expect(await closeOf(expired, 1)).toEqual({ code: CloseCode.policyViolation, reason: CloseReason.tokenExpired });
  });

  it("a token for another user than the path → 1008 Authentication failed", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    expect(await closeOf(alice.accessToken, bob.user.id)).toEqual({ code: CloseCode.policyViolation, reason: CloseReason.authenticationFailed });
  });

  it("answers with the switchboard subprotocol, never echoing the bearer entry", async () => {
    const alice = await login(t.url, "alice");
    const client = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await client.next((f) => f.type === ServerFrameType.welcome);
    expect(client.ws.protocol).toBe(SUBPROTOCOL);
    await client.close();
  });

  it("refuses a foreign browser Origin with 403 at the upgrade; allows listed origins and none", async () => {
    const alice = await login(t.url, "alice");
    const foreign = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken, origin: "https://evil.example.net" });
    await expect(foreign.opened).rejects.toMatchObject({ statusCode: 403 });
    for (const origin of ["https://chat.example.com", EXTENSION_ORIGIN, undefined]) {
      const ok = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken, origin });
      await ok.next((f) => f.type === ServerFrameType.welcome);
      await ok.close();
    }
  });

  it("refuses paths other than /ws/chat/{numeric id} with 404", async () => {
    const client = connectChat(t.wsUrl, "abc", { token: "x" });
    await expect(client.opened).rejects.toMatchObject({ statusCode: 404 });
  });
});
