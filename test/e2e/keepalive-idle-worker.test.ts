import { describe, expect, it } from "vitest";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric, sleep } from "./support/metrics.js";
import { allShow } from "./support/tabs.js";

/** Chrome stops an idle MV3 worker after 30 s; 95 s spans three of those windows. */
const IDLE_MS = 95_000;

// With nothing attached (Playwright/DevTools keep a worker alive while attached) and
// no tab open, the application keepalive alone keeps the worker, and so its one socket, alive.
describe("keepalive keeps the idle worker's socket open", () => {
  const world = useBrowserWorld();

  it("one socket stays open for > 90 s with no user traffic and no debugger attached", { timeout: 180_000 }, async () => {
    const { server, driven } = world;
    const app = await configureAndSignIn(driven, server.url, "alice");
    await allShow([app], ConnectionState.open);
    for (const page of driven.context.pages()) if (page.url() !== "about:blank") await page.close();
    // Detach Playwright entirely: from here on Chromium runs as a user would start it.
    await driven.browser.close();
    const version = await fetch(`${driven.chrome.debugUrl}/json/version`);
    expect(version.ok).toBe(true);

    const deadline = Date.now() + IDLE_MS;
    while (Date.now() < deadline) {
      await sleep(5000);
      expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    }
    expect(driven.chrome.process.exitCode).toBeNull();
    // The same socket all along: never closed by an idle-killed worker and reopened.
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(1);
  });
});
