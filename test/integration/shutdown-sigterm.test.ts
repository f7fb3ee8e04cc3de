import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode, CloseReason, ServerFrameType } from "../../shared/protocol/index.js";
import { connectChat, login } from "../helpers/chat-client.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";

describe("graceful shutdown (a real process)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => server?.stop());

  it("SIGTERM → every client gets 1012 Service restart and the process exits 0 within 10 s", async () => {
    const users = ["alice", "bob", "carol"];
    const clients = [];
    for (const name of users) {
      const session = await login(server.url, name);
      const client = connectChat(server.wsUrl, session.user.id, { token: session.accessToken });
      await client.next((f) => f.type === ServerFrameType.welcome);
      clients.push(client);
    }
    const started = Date.now();
    const exit = server.kill("SIGTERM");
    const closes = await Promise.all(clients.map((c) => c.closed));
    for (const close of closes) expect(close).toEqual({ code: CloseCode.serviceRestart, reason: CloseReason.serviceRestart });
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    // It restarts on the same data: the demo users are still there (not re-created).
    await server.restart();
    const again = await login(server.url, "alice");
    expect(again.user.username).toBe("alice");
  });
});
