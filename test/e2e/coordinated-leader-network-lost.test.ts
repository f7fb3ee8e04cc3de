import { describe, expect, it } from "vitest";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { allOpen, leaderOf, openWebTabs, signInWeb } from "./support/coordinated-tabs.js";
import { waitFor } from "./support/metrics.js";
import { cutNetwork } from "./support/network.js";
import { allShow, banner } from "./support/tabs.js";

// The network goes away under the leader tab's open socket: the page gets `offline` at once, the
// socket shows nothing until TCP gives up, and the dead-link check alone waits 2.5 keepalive
// periods (50 s) — all that time every tab said "connected". The leader checks its link instead,
// and reconnects on `online` rather than on its next offline probe.
describe("the leader tab loses the network and gets it back", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("every tab shows offline within seconds, and connected again at once when the network returns", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const tabs = await openWebTabs(driven, server.url, 2);
    await signInWeb(tabs[0]!, "alice");
    await allOpen(tabs);
    const leader = await leaderOf(tabs);
    const logged: string[] = [];
    leader.on("console", (message) => logged.push(message.text()));

    const network = await cutNetwork(driven, [server.url]);
    // The default keepalive (20 s): without the link check this takes ~50 s.
    await allShow(tabs, ConnectionState.offline, 10_000);
    expect(logged.some((line) => line.includes("link check"))).toBe(true);

    await network.restore();
    await allShow(tabs, ConnectionState.open, 10_000);
    // Back through the page's `online` event, not a probe that found the network by itself.
    expect(logged.some((line) => line.includes("the network is back (probe)"))).toBe(false);
    await waitFor(async () => banner(leader, ConnectionState.open).isVisible(), 1000, "the leader connected");
  });
});
