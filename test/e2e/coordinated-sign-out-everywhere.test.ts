import { describe, expect, it } from "vitest";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { allOpen, leaderOf, openWebTabs, signInWeb } from "./support/coordinated-tabs.js";
import { metric, waitFor } from "./support/metrics.js";
import { allShow } from "./support/tabs.js";

/** What the leader stored in the origin's IndexedDB (idb-keyval's database "switchboard", store "hub"). */
const STORED_SNAPSHOT = `new Promise((resolve, reject) => {
  const open = indexedDB.open("switchboard");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains("hub")) return resolve(null);
    const get = db.transaction("hub").objectStore("hub").get("snapshot");
    get.onsuccess = () => resolve(get.result ?? null);
    get.onerror = () => reject(get.error);
  };
})`;

// Signing out in one tab signs out every tab of the origin and leaves nothing of the user in
// origin storage; the socket closes and nothing reconnects.
describe("sign out in one coordinated tab", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("every tab is signed out, the socket closed, origin storage cleared", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const tabs = await openWebTabs(driven, server.url, 3);
    await signInWeb(tabs[1]!, "alice");
    await allOpen(tabs);
    const leader = await leaderOf(tabs);
    const follower = tabs.find((tab) => tab !== leader)!;
    expect(await follower.evaluate(STORED_SNAPSHOT)).toMatchObject({ user: { username: "alice" } });

    await follower.getByRole("button", { name: "Sign out" }).click();
    await allShow(tabs, ConnectionState.signedOut);
    await Promise.all(tabs.map((tab) => tab.locator('form[data-testid="sign-in"]').waitFor()));
    await waitFor(async () => (await metric(server, "switchboard_ws_connections")) === 0, 5000, "socket closed");
    const stored = (await follower.evaluate(STORED_SNAPSHOT)) as {
      user: unknown;
      profile: unknown;
      recent: unknown[];
      conversations: unknown[];
      epoch: unknown;
    } | null;
    expect(
      stored === null ||
        (stored.user === null && stored.profile === null && stored.recent.length === 0 && stored.conversations.length === 0 && stored.epoch === null),
    ).toBe(true);

    // A reload finds no session: the sign-in form, and the refresh cookie is gone too (no refresh made).
    await tabs[0]!.reload();
    await tabs[0]!.locator('form[data-testid="sign-in"]').waitFor();
    expect(await metric(server, "switchboard_ws_connections")).toBe(0);
  });
});
