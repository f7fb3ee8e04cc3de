import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { allOpen, leaderOf, openWebTabs, signInWeb } from "./support/coordinated-tabs.js";
import { sleep, waitFor } from "./support/metrics.js";
import { cutNetwork } from "./support/network.js";
import { banner } from "./support/tabs.js";

// Issue 12, the second home: a browser without the extension, whose elected tab runs the hub and
// keeps its outbox in IndexedDB. Typed offline (in a tab that is not the leader, and in the
// leader), then the leader closes while still offline: the next leader sends them, once each.
describe("outbox in the elected tab: offline, leader closed, back online", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("delivers what was typed offline exactly once, in order, after the leader tab closed", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const tabs = await openWebTabs(driven, server.url, 2, "?keepaliveMs=1000");
    await signInWeb(tabs[0]!, "alice");
    await allOpen(tabs);
    const leader = await leaderOf(tabs);
    const follower = tabs.find((tab) => tab !== leader)!;
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    for (const tab of tabs) {
      await tab.getByTestId(`conversation-${bob.user.id}`).click();
      await tab.getByTestId("composer").waitFor();
    }

    const network = await cutNetwork(driven, [server.url]);
    await waitFor(async () => !(await banner(leader, ConnectionState.open).isVisible()), 15_000, "the leader no longer shows connected");
    const prefix = `elected offline ${Date.now()} #`;
    const bodies = [1, 2, 3, 4].map((n) => `${prefix}${n}`);
    for (const [index, body] of bodies.entries()) {
      const tab = index % 2 === 0 ? follower : leader;
      await tab.getByTestId("composer").fill(body);
      await tab.getByTestId("composer").press("Enter");
      for (const shown of tabs) await shown.locator('[data-testid="message"][data-state="pending"]', { hasText: body }).waitFor({ timeout: 5000 });
    }

    // The leader goes away with the queue unsent; the other tab is elected and reads it from IndexedDB.
    await leader.close();
    await waitFor(async () => (await follower.evaluate(() => document.documentElement.dataset.switchboardLeader)) === "true", 15_000, "the other tab leads");
    await network.restore();

    const received = async () => {
      const response = await api<{ messages: ChatMessage[] }>(server.url, bob.accessToken, "GET", `${RestPath.messages}?peerId=${alice.user.id}&limit=50`);
      return response.body.messages.filter((message) => message.body.startsWith(prefix));
    };
    await waitFor(async () => (await received()).length >= bodies.length, 30_000, "bob received every message");
    await sleep(1500); // a duplicate would arrive within this window
    expect((await received()).map((message) => message.body)).toEqual(bodies);
    await waitFor(async () => (await follower.locator('[data-testid="message"][data-state="pending"]').count()) === 0, 15_000, "none left pending");
    expect(await follower.locator('[data-testid="message"]', { hasText: prefix }).count()).toBe(bodies.length);
  });
});
