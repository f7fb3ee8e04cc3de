import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { api } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { aliceTabsShowingBob, allOpen, leaderOf, shownBodies } from "./support/coordinated-tabs.js";
import { metric, waitFor } from "./support/metrics.js";

// Closing the leader tab hands the socket and the stream position to the next leader: one new
// connect, and every message sent across the handover reaches every remaining tab once, in order.
describe("the leader tab closes", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("a new leader, exactly 1 new connect, 20 messages across the handover in every tab once and in order", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const { tabs, alice, bob } = await aliceTabsShowingBob(driven, server.url, 4);
    const leader = await leaderOf(tabs);
    const connects = await metric(server, "switchboard_ws_connects_total");

    const stamp = Date.now();
    const bodies = Array.from({ length: 20 }, (_, i) => `handover ${stamp} #${String(i).padStart(2, "0")}`);
    const send = (body: string, i: number) =>
      api(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: `close-${stamp}-${i}` });
    // Ten before, the close in the middle, ten after (one every 50 ms, so some land while no tab holds a socket).
    for (let i = 0; i < 10; i++) await send(bodies[i]!, i);
    await leader.close();
    for (let i = 10; i < 20; i++) {
      await send(bodies[i]!, i);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const remaining = tabs.filter((tab) => tab !== leader);
    const next = await leaderOf(remaining);
    expect(next).not.toBe(leader);
    await allOpen(remaining);
    for (const tab of remaining) {
      await waitFor(async () => (await shownBodies(tab, `handover ${stamp}`)).length >= 20, 10_000, "all 20 messages in the tab");
      expect(await shownBodies(tab, `handover ${stamp}`)).toEqual(bodies);
    }
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(connects + 1);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
  });
});
