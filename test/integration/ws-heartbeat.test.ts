import { describe, expect, it } from "vitest";
import { ClientFrameType, CloseCode, CloseReason, ServerFrameType } from "../../shared/protocol/index.js";
import { connectChat, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

const INTERVAL = 100;
const MISSES = 3;

describe("protocol heartbeat", () => {
  const t = useTestServer({ HEARTBEAT_INTERVAL_MS: String(INTERVAL), HEARTBEAT_MAX_MISSED: String(MISSES) });

  it("closes a client that ignores pings with 4001 within interval × (misses + 1)", async () => {
    const alice = await login(t.url, "alice");
    const client = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken, autoPong: false });
    await client.next((f) => f.type === ServerFrameType.welcome);
    const openedAt = Date.now();
    let pings = 0;
    client.ws.on("ping", () => pings++);
    const close = await client.closed;
    const elapsed = Date.now() - openedAt;
    expect(close).toEqual({ code: CloseCode.heartbeatTimeout, reason: CloseReason.heartbeatTimeout });
    expect(pings).toBe(MISSES);
    // Deadline from the contract, with scheduling slack for a loaded 2-core CI machine.
    expect(elapsed).toBeLessThanOrEqual(INTERVAL * (MISSES + 1) + 250);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_ws_heartbeat_timeouts_total 1\b/);
  });

  it("keeps a client that answers pings open for 10 intervals", async () => {
    const bob = await login(t.url, "bob");
    const client = connectChat(t.wsUrl, bob.user.id, { token: bob.accessToken });
    await client.next((f) => f.type === ServerFrameType.welcome);
    let pings = 0;
    client.ws.on("ping", () => pings++);
    await new Promise((r) => setTimeout(r, INTERVAL * 10));
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(pings).toBeGreaterThanOrEqual(8);
    await client.close();
  });

  it("answers the application keepalive ping with pong", async () => {
    const carol = await login(t.url, "carol");
    const client = connectChat(t.wsUrl, carol.user.id, { token: carol.accessToken });
    await client.opened;
    client.send({ type: ClientFrameType.ping });
    await client.next((f) => f.type === ServerFrameType.pong);
    await client.close();
  });
});
