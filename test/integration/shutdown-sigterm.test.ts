import { RestPath } from "../../shared/protocol/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientFrameType, CloseCode, CloseReason, ServerFrameType } from "../../shared/protocol/index.js";
import { api, connectChat, login } from "../helpers/chat-client.js";
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
    // Sends in flight when the signal arrives are finished, not failed on a closed database.
    const alice = await login(server.url, "alice");
    const sender = clients[0]!;
    for (let i = 0; i < 50; i++) sender.send({ type: ClientFrameType.send, clientMsgId: `term-${i}`, to: 2, body: `in flight ${i}` });
    await sender.next((f) => f.type === ServerFrameType.ack, 10_000);
    const started = Date.now();
    const exit = server.kill("SIGTERM");
    const closes = await Promise.all(clients.map((c) => c.closed));
    for (const close of closes) expect(close).toEqual({ code: CloseCode.serviceRestart, reason: CloseReason.serviceRestart });
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.output()).not.toMatch(/send failed|Cannot use a pool/);
    // It restarts on the same data: the demo users are still there (not re-created), and every
    // acknowledged send is stored.
    await server.restart();
    const again = await login(server.url, "alice");
    expect(again.user.username).toBe("alice");
    const acked = sender.frames.filter((f) => f.type === ServerFrameType.ack).length;
    const history = await api<{ messages: Array<{ body: string }> }>(server.url, again.accessToken, "GET", `${RestPath.messages}?peerId=2&limit=200`);
    const stored = history.body.messages.filter((m) => m.body.startsWith("in flight")).length;
    expect(stored).toBeGreaterThanOrEqual(acked);
    expect(stored).toBe(50); // every send that reached the server before the signal
    expect(alice.user.id).toBe(again.user.id);
  });
});
