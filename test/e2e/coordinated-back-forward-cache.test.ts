import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { api } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { aliceTabsShowingBob, allOpen, leaderOf, openConversation, shownBodies } from "./support/coordinated-tabs.js";
import { metric, waitFor } from "./support/metrics.js";

// `pagehide` closes a tab's transport (the leader hands its socket over), and it also fires when the
// page goes into the back/forward cache. Restored from it, the tab must not stay dead while it shows
// the state it left with: it starts afresh and shows what arrived while it was away.
describe("a coordinated tab goes back to the app from the back/forward cache", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("the restored tab shows the message sent while it was away and the next one; still one socket", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const { tabs, alice, bob } = await aliceTabsShowingBob(driven, server.url, 2);
    const stamp = Date.now();
    const bodies = [`bfcache ${stamp} away`, `bfcache ${stamp} back`];
    const send = (body: string) => api(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: body });

    // A follower leaves: a tab that has led is never cached (the election library's `unload`
    // handler keeps it out), so it comes back by a plain load.
    const stays = await leaderOf(tabs);
    const away = tabs.find((tab) => tab !== stays)!;
    const logged: string[] = [];
    away.on("console", (message) => logged.push(message.text()));
    await away.goto(`${server.url}${RestPath.healthz}`);
    await send(bodies[0]!);
    // A restore from the cache fires no `load`: wait for the navigation to commit only.
    await away.goBack({ waitUntil: "commit" });
    await waitFor(async () => logged.some((text) => text.includes("restored from the back/forward cache")), 10_000, "the restore from the cache");
    await send(bodies[1]!);

    await allOpen(tabs);
    await openConversation([away], bob.user.id);
    for (const tab of tabs) {
      await waitFor(async () => (await shownBodies(tab, `bfcache ${stamp}`)).length >= 2, 10_000, "both messages in the tab");
      expect(await shownBodies(tab, `bfcache ${stamp}`)).toEqual(bodies);
    }
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
  });
});
