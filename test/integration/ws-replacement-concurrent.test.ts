import { describe, expect, it } from "vitest";
import { ClientFrameType, CloseReason, ServerFrameType } from "../../shared/protocol/index.js";
import { connectChat, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("atomic replacement: 50 concurrent connects for one user", () => {
  const t = useTestServer();

  it("ends with exactly one open socket; the 49 others get 1000 + the exact reason; the winner keeps working", async () => {
    const alice = await login(t.url, "alice");
    const clients = Array.from({ length: 50 }, () => connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken }));
    const results = await Promise.allSettled(clients.map((c) => c.opened));
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);

    // Wait until all but one are closed.
    const deadline = Date.now() + 10_000;
    while (clients.filter((c) => c.ws.readyState === c.ws.OPEN).length > 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const open = clients.filter((c) => c.ws.readyState === c.ws.OPEN);
    expect(open).toHaveLength(1);
    const closes = await Promise.all(clients.filter((c) => c !== open[0]).map((c) => c.closed));
    expect(closes).toHaveLength(49);
    for (const close of closes) expect(close).toEqual({ code: 1000, reason: CloseReason.replaced });

    // Server agrees: one registered session, one open socket.
    await new Promise((r) => setTimeout(r, 100));
    expect(t.server.sockets.currentCount).toBe(1);
    expect(t.server.sockets.size).toBe(1);

    // The winner has the highest generation and still works.
    const winner = open[0]!;
    const welcome = await winner.next((f) => f.type === ServerFrameType.welcome);
    const generations = await Promise.all(
      clients.map((c) =>
        c
          .next((f) => f.type === ServerFrameType.welcome)
          .then(
            (w) => (w.type === ServerFrameType.welcome ? w.generation : 0),
            () => 0,
          ),
      ),
    );
    expect(welcome.type === ServerFrameType.welcome && welcome.generation).toBe(Math.max(...generations));
    winner.send({ type: ClientFrameType.ping });
    await winner.next((f) => f.type === ServerFrameType.pong);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_ws_connections 1\b/);
    expect(metrics).toMatch(/switchboard_ws_replacements_total 49\b/);
    await winner.close();
  });
});
