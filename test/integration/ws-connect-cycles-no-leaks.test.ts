import { describe, expect, it } from "vitest";
import { ServerFrameType } from "../../shared/protocol/index.js";
import { connectChat, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("1,000 connect/close cycles", () => {
  const t = useTestServer({ HEARTBEAT_INTERVAL_MS: "50" });

  it("leave the registry empty and no timers, listeners or handles behind", async () => {
    const alice = await login(t.url, "alice");
    const handlesBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap").length;
    for (let batch = 0; batch < 100; batch++) {
      const clients = Array.from({ length: 10 }, () => connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken }));
      await Promise.all(clients.map((c) => c.opened.catch(() => {})));
      await Promise.all(clients.map((c) => c.close()));
    }
    const deadline = Date.now() + 10_000;
    while ((t.server.sockets.size > 0 || t.server.sockets.currentCount > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(t.server.sockets.size).toBe(0);
    expect(t.server.sockets.currentCount).toBe(0);
    // Heartbeat timers are cleared on close: nothing accumulates per cycle.
    await new Promise((r) => setTimeout(r, 200));
    const handlesAfter = process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap").length;
    expect(handlesAfter - handlesBefore).toBeLessThan(20);
    // And the server still accepts a new connection normally.
    const last = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await last.next((f) => f.type === ServerFrameType.welcome);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_ws_connections 1\b/);
    await last.close();
  }, 120_000);
});
