import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { shownBodies } from "./support/coordinated-tabs.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric, waitFor } from "./support/metrics.js";
import { openTabs } from "./support/tabs.js";

// Chromium closes an extension's message port when the page enters the back/forward cache and
// tells only the worker's end. A web-app tab restored from the cache must not stay frozen on the
// state it left with: its content script opens a new port, and the hub's snapshot brings it up to date.
describe("an extension tab goes back to the app from the back/forward cache", () => {
  const world = useBrowserWorld();

  it("the restored tab shows the message sent while it was away and the next one; one socket", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    await configureAndSignIn(driven, server.url, "alice");
    const { web } = await openTabs(driven, server.url, 1);
    const tab = web[0]!;
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await tab.getByTestId(`conversation-${bob.user.id}`).click();
    await tab.getByTestId("messages").waitFor({ state: "attached" });
    const marked = await tab.evaluate(() => ((window as unknown as { restoredMarker: number }).restoredMarker = Math.random()));

    const stamp = Date.now();
    const bodies = [`bfcache ${stamp} away`, `bfcache ${stamp} back`];
    const send = (body: string) => api(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: body });
    await tab.goto(`${server.url}${RestPath.healthz}`);
    await send(bodies[0]!);
    // A restore from the cache fires no `load`: wait for the navigation to commit only.
    await tab.goBack({ waitUntil: "commit" });
    // The same page (its script state kept), not a fresh load: the case this test is about.
    expect(await tab.evaluate(() => (window as unknown as { restoredMarker?: number }).restoredMarker)).toBe(marked);
    await send(bodies[1]!);

    // 30 s, not 10: under load on 2 cores the tab showed fewer than both after 10 s once in a
    // fresh-clone CI run and in 2 of about 30 local runs beside busy loops (late or never: not
    // known). A tab left frozen still fails here, and the error says what it shows.
    await waitFor(async () => (await shownBodies(tab, `bfcache ${stamp}`)).length >= 2, 30_000, "both messages in the restored tab").catch(
      async (error: Error) => {
        throw new Error(`${error.message}; the tab shows ${JSON.stringify(await shownBodies(tab, `bfcache ${stamp}`))}`);
      },
    );
    expect(await shownBodies(tab, `bfcache ${stamp}`)).toEqual(bodies);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
  });
});
