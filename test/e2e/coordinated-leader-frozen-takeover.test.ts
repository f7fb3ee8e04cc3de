import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { api } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { aliceTabsShowingBob, cdp, freeze, isLeader, leaderOf, shownBodies } from "./support/coordinated-tabs.js";
import { metric, sleep, waitFor } from "./support/metrics.js";
import { banner } from "./support/tabs.js";

// A frozen leader (CDP Page.setWebLifecycleState frozen, see `freeze`) still holds its lock and its socket but
// runs no code: the followers hear no heartbeat, take over (Web Locks steal) and the new leader's
// socket replaces the frozen one's. Thawed, the former leader finds it lost and follows — it opens
// no second socket and nobody sees "Use here".
describe("the leader tab freezes", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("followers take over; thawed, the former leader steps down without a second socket", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const { tabs, alice, bob } = await aliceTabsShowingBob(driven, server.url, 3);
    const frozen = await leaderOf(tabs);
    const others = tabs.filter((tab) => tab !== frozen);
    const connects = await metric(server, "switchboard_ws_connects_total");

    const frozenTab = await freeze(await cdp(driven, frozen));
    const stamp = Date.now();
    const bodies = Array.from({ length: 10 }, (_, i) => `frozen ${stamp} #${i}`);
    for (const [i, body] of bodies.entries()) {
      await api(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: `frozen-${stamp}-${i}` });
      await sleep(300);
    }
    const next = await leaderOf(others, 15_000);
    await waitFor(async () => (await metric(server, "switchboard_ws_connects_total")) === connects + 1, 15_000, "the new leader's socket");
    for (const tab of others) {
      await waitFor(async () => (await shownBodies(tab, `frozen ${stamp}`)).length >= bodies.length, 15_000, "the messages in a follower");
      expect(await shownBodies(tab, `frozen ${stamp}`)).toEqual(bodies);
    }

    await frozenTab.thaw();
    await banner(frozen, ConnectionState.open).waitFor({ timeout: 15_000 });
    await waitFor(async () => (await shownBodies(frozen, `frozen ${stamp}`)).length >= bodies.length, 15_000, "the messages in the thawed tab");
    await sleep(5000); // time for a wrong second socket (backoff, reconnect) to show up
    expect(await isLeader(frozen)).toBe(false);
    expect(await isLeader(next)).toBe(true);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(connects + 1);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    for (const tab of tabs) expect(await tab.getByTestId("use-here").count()).toBe(0);
  });
});
