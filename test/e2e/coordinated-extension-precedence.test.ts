import { describe, expect, it } from "vitest";
import { configureAndSignIn } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { isLeader, openWebTabs } from "./support/coordinated-tabs.js";
import { metric, sleep } from "./support/metrics.js";
import { allShow } from "./support/tabs.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";

// Where the content script marks the page, web-app tabs use the extension: its worker holds the
// browser's one socket and no tab elects a leader or opens one.
describe("the extension takes precedence over coordinated tabs", () => {
  const world = useBrowserWorld();

  it("with the extension loaded: 0 sockets from tabs, 1 from the worker", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const app = await configureAndSignIn(driven, server.url, "alice");
    const tabs = await openWebTabs(driven, server.url, 4);
    await allShow([app, ...tabs], ConnectionState.open);
    await sleep(2000); // a tab that wrongly coordinated would have elected itself and connected by now
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(1);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    for (const tab of tabs) {
      expect(await tab.evaluate(() => document.documentElement.dataset.switchboardHome)).toBe("extension");
      expect(await isLeader(tab)).toBe(false);
      expect(await tab.getByTestId("extension-hint").count()).toBe(0);
    }
  });
});
