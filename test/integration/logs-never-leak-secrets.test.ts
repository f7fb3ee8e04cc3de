import { RestPath } from "../../shared/protocol/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerFrameType } from "../../shared/protocol/index.js";
import { api, connectChat, login } from "../helpers/chat-client.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { usernameKey } from "../../server/src/http/login-limiter.js";

describe("server logs (a real process at debug level)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ env: { LOG_LEVEL: "debug", ALLOWED_ORIGINS: "https://ok.example" } });
  });
  afterAll(async () => server?.stop());

  it("contain no token, password, or unmasked e-mail/phone after logins, sockets, failures and profile edits", async () => {
    const alice = await login(server.url, "alice");
    await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "victim@example.com", password: "hunter2-secret" }),
    });
    await api(server.url, alice.accessToken, "PATCH", RestPath.profileMe, { email: "alice.private@example.com", phone: "13912345678" });
    const socket = connectChat(server.wsUrl, alice.user.id, { token: alice.accessToken });
    await socket.next((f) => f.type === ServerFrameType.welcome);
    socket.send("not json");
    await socket.close();
    const foreign = connectChat(server.wsUrl, alice.user.id, { token: alice.accessToken, origin: "https://evil.example" });
    await foreign.opened.catch(() => {});
    await api(server.url, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.bogus-signature-bogus", "GET", RestPath.profileMe);
    await server.kill("SIGTERM");
    const out = server.output();
    expect(out.length).toBeGreaterThan(0);
    // The failed login was logged with a hash of the username, never the username itself.
    expect(out).toContain(usernameKey("victim@example.com"));
    expect(out).not.toContain("v***@example.com");
    for (const secret of [
      alice.accessToken,
      alice.refreshToken,
      "hunter2-secret",
      "victim@example.com",
      "alice.private@example.com",
      "13912345678",
      "bogus-signature-bogus",
    ]) {
      expect(out).not.toContain(secret);
    }
  });
});
