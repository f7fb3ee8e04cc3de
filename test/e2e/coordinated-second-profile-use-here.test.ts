import { describe, expect, it } from "vitest";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import type { DrivenBrowser } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { allOpen, leaderOf, openWebTabs, signInWeb } from "./support/coordinated-tabs.js";
import { metric, sleep } from "./support/metrics.js";
import { allShow } from "./support/tabs.js";

/** Keepalive and server heartbeat 1 s instead of 20 s, so the watch below covers many periods (one query parameter: /json/new cuts at "&"). */
const SHORT_TIMERS = "?keepaliveMs=1000";
const WATCH_MS = 15_000;

// Two browser profiles without the extension, the same user: the second one's leader replaces the
// first one's socket; every tab of the first shows "Use here" and nobody reconnects by itself.
describe("coordinated tabs replaced by another browser profile", () => {
  const world = useBrowserWorld({ HEARTBEAT_INTERVAL_MS: "1000" }, 2, { extensionDir: null });

  it("the first profile's tabs show Use here; exactly 2 connects over the watch; Use here flips it back", { timeout: 120_000 }, async () => {
    const { server } = world;
    const [first, second] = world.browsers as [DrivenBrowser, DrivenBrowser];
    const firstTabs = await openWebTabs(first, server.url, 2, SHORT_TIMERS);
    await signInWeb(firstTabs[0]!, "alice");
    await allOpen(firstTabs);
    await leaderOf(firstTabs);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(1);

    const secondTabs = await openWebTabs(second, server.url, 2, SHORT_TIMERS);
    await signInWeb(secondTabs[1]!, "alice");
    await allOpen(secondTabs);
    await allShow(firstTabs, ConnectionState.replaced);
    await Promise.all(firstTabs.map((tab) => tab.getByTestId("use-here").waitFor()));

    await sleep(WATCH_MS);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(2);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    await allShow(firstTabs, ConnectionState.replaced, 1000);
    await allShow(secondTabs, ConnectionState.open, 1000);

    // "Use here" in a follower of the first profile goes to its leader, which connects again.
    const firstLeader = await leaderOf(firstTabs);
    const follower = firstTabs.find((tab) => tab !== firstLeader)!;
    await follower.getByTestId("use-here").click();
    await allShow(firstTabs, ConnectionState.open);
    await allShow(secondTabs, ConnectionState.replaced);
    await sleep(5000);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(3);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
  });
});
