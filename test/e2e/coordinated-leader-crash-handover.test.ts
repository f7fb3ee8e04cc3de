import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { api } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { aliceTabsShowingBob, allOpen, cdp, leaderOf, shownBodies } from "./support/coordinated-tabs.js";
import { metric, waitFor } from "./support/metrics.js";

// A crashed renderer releases its lock (CDP Page.crash): the next leader starts from the snapshot
// and position the crashed one stored, with one new connect, and every message sent across the
// crash reaches every remaining tab once, in order.
describe("the leader tab crashes", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("a new leader, exactly 1 new connect, 20 messages across the crash in every tab once and in order; a follower's send retried with the next leader", {
    timeout: 120_000,
  }, async () => {
    const { server, driven } = world;
    const { tabs, alice, bob } = await aliceTabsShowingBob(driven, server.url, 4);
    const leader = await leaderOf(tabs);
    const connects = await metric(server, "switchboard_ws_connects_total");

    const stamp = Date.now();
    const bodies = Array.from({ length: 20 }, (_, i) => `crash ${stamp} #${String(i).padStart(2, "0")}`);
    const send = (body: string, i: number) =>
      api(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: `crash-${stamp}-${i}` });
    // Ten before, the crash in the middle, ten after (one every 50 ms, so some land while no tab holds a socket).
    for (let i = 0; i < 10; i++) await send(bodies[i]!, i);
    const session = await cdp(driven, leader);
    const crashed = new Promise((resolve) => leader.once("crash", resolve));
    void session.send("Page.crash").catch(() => undefined); // the answer never comes: the renderer is gone
    await crashed;
    // A follower sends while no tab leads: its request stays in flight and goes to the next leader.
    const remaining = tabs.filter((tab) => tab !== leader);
    const mine = `follower send ${stamp}`;
    await remaining[0]!.getByTestId("composer").fill(mine);
    await remaining[0]!.getByTestId("composer").press("Enter");
    for (let i = 10; i < 20; i++) {
      await send(bodies[i]!, i);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const next = await leaderOf(remaining);
    expect(next).not.toBe(leader);
    await allOpen(remaining);
    for (const tab of remaining) {
      await waitFor(async () => (await shownBodies(tab, `crash ${stamp}`)).length >= 20, 10_000, "all 20 messages in the tab");
      expect(await shownBodies(tab, `crash ${stamp}`)).toEqual(bodies);
    }
    for (const tab of remaining) {
      const sent = tab.getByTestId("message").filter({ hasText: mine });
      await sent.and(tab.locator('[data-pending="false"]')).waitFor({ timeout: 10_000 });
      expect(await sent.count()).toBe(1);
    }
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(connects + 1);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
  });
});
