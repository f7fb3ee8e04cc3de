import { describe, expect, it } from "vitest";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn, type DrivenBrowser } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric, sleep } from "./support/metrics.js";
import { allShow, banner } from "./support/tabs.js";

/** Timers shortened 20× (keepalive and server heartbeat 1 s instead of 20 s), so 20 s here ≈ the spec's "next minute" and more. */
const SHORT = { keepaliveMs: 1000, backoffBaseMs: 200 };
const WATCH_MS = 20_000;

// Issue 5, test 5: a second browser signs in as the same user → the first shows "Use here" and
// nobody reconnects by itself (the production reconnect loop); "Use here" takes it back.
describe("replaced by another browser: Use here, never a loop", () => {
  const world = useBrowserWorld({ HEARTBEAT_INTERVAL_MS: "1000" }, 2);

  it("the first browser shows Use here; exactly 2 connects over the watch; Use here flips it back", { timeout: 120_000 }, async () => {
    const { server } = world;
    const [first, second] = world.browsers as [DrivenBrowser, DrivenBrowser];
    const firstApp = await configureAndSignIn(first, server.url, "alice", SHORT);
    const firstWeb = await first.open(`${server.url}/`);
    await allShow([firstApp, firstWeb], ConnectionState.open);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(1);

    const secondApp = await configureAndSignIn(second, server.url, "alice", SHORT);
    await allShow([firstApp, firstWeb], ConnectionState.replaced);
    await firstWeb.getByTestId("use-here").waitFor();
    await firstWeb.getByText("Active in another window").waitFor();

    await sleep(WATCH_MS);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(2);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    await banner(secondApp, ConnectionState.open).waitFor({ timeout: 1000 });
    await banner(firstApp, ConnectionState.replaced).waitFor({ timeout: 1000 });

    // "Use here" in the first browser connects again, which replaces the second one.
    await firstWeb.getByTestId("use-here").click();
    await allShow([firstApp, firstWeb], ConnectionState.open);
    await allShow([secondApp], ConnectionState.replaced);
    await secondApp.getByTestId("use-here").waitFor();
    await sleep(5000);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(3);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
  });
});
