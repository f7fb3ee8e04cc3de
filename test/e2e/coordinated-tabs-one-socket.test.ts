import { describe, expect, it } from "vitest";
import { useBrowserWorld } from "./support/browser-world.js";
import { allOpen, leaderOf, openWebTabs, signInWeb } from "./support/coordinated-tabs.js";
import { metric, sleep } from "./support/metrics.js";

// Issue 11: a browser without the extension. Its web-app tabs elect one leader; only it holds a socket.
describe("coordinated tabs without the extension", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("6 tabs → 1 open socket and 1 accepted connect; every tab signed in; a quiet hint about the extension", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const tabs = await openWebTabs(driven, server.url, 6);
    await signInWeb(tabs[3]!, "alice");
    await allOpen(tabs);
    await leaderOf(tabs);
    await sleep(1500); // a second socket, if any tab opened one, would be counted by now
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(1);
    for (const tab of tabs) {
      expect(await tab.getByTestId("extension-hint").count()).toBe(1);
      expect(await tab.evaluate(() => document.documentElement.dataset.switchboardHome)).toBe("coordinator");
    }
  });
});
