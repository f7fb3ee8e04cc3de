import { describe, expect, it } from "vitest";
import { COORDINATOR_CHANNEL_NAME, CoordinatorMessageKind } from "../../shared/coordinator/coordinator-messages.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { allOpen, isLeader, leaderOf, openWebTabs, signInWeb } from "./support/coordinated-tabs.js";
import { metric, waitFor } from "./support/metrics.js";

/**
 * What a tab the extension serves posts (`announceExtension`), in broadcast-channel's envelope on
 * the native BroadcastChannel (`time` in microseconds, as the library stamps it).
 */
const ANNOUNCE = `new BroadcastChannel(${JSON.stringify(COORDINATOR_CHANNEL_NAME)}).postMessage({
  time: Date.now() * 1000 + 1000,
  type: "message",
  data: { kind: ${JSON.stringify(CoordinatorMessageKind.extensionPresent)}, from: "extension-tab" },
})`;

// Tabs opened before the extension was installed have no content script. When a tab of the site
// that has it announces itself, a coordinated leader closes its socket at once (before the
// extension's worker could replace it: nobody sees "Use here") and every such tab reloads once,
// so the content script can join. Here the announcement is posted by the test (no extension in
// this browser), so after the one reload the tabs coordinate again: signed in, one socket.
describe("a coordinated leader learns of the extension", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("closes its socket, every tab reloads once, nobody sees Use here", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const tabs = await openWebTabs(driven, server.url, 3);
    await signInWeb(tabs[0]!, "alice");
    await allOpen(tabs);
    const leader = await leaderOf(tabs);
    const follower = tabs.find((tab) => tab !== leader)!;
    const useHereSeen: string[] = [];
    for (const tab of tabs) {
      await tab.exposeFunction("reportUseHere", (url: string) => useHereSeen.push(url)).catch(() => undefined);
      tab.on(
        "load",
        () =>
          void tab
            .evaluate(
              "new MutationObserver(() => document.querySelector('[data-testid=use-here]') && window.reportUseHere(location.href)).observe(document.body, { subtree: true, childList: true })",
            )
            .catch(() => undefined),
      );
    }
    const reloads = tabs.map((tab) => tab.waitForEvent("load", { timeout: 15_000 }));
    const closesBefore = await metric(server, "switchboard_ws_closes_total", 'code="1000"');

    await follower.evaluate(ANNOUNCE);
    await Promise.all(reloads);
    // The leader's socket was closed normally (1000 "Handed over"), not replaced.
    await waitFor(async () => (await metric(server, "switchboard_ws_closes_total", 'code="1000"')) > closesBefore, 10_000, "the leader's normal close");

    await allOpen(tabs);
    await leaderOf(tabs);
    for (const tab of tabs) {
      expect(await tab.evaluate(() => sessionStorage.getItem("switchboard-reloaded-for-extension"))).toBe("1");
      expect(await tab.getByTestId("sign-in").count()).toBe(0);
      expect(await tab.getByTestId("use-here").count()).toBe(0);
    }
    expect(useHereSeen).toEqual([]);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    expect((await Promise.all(tabs.map(isLeader))).filter(Boolean)).toHaveLength(1);
  });
});
