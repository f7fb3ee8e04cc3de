import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { api } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { aliceTabsShowingBob, shownBodies } from "./support/coordinated-tabs.js";
import { sleep, waitFor } from "./support/metrics.js";
import { unreadShown } from "./support/tabs.js";

/**
 * Headless Chromium reports every tab as visible, so the page is told it was hidden or shown the
 * way the browser tells it: `document.visibilityState` and a `visibilitychange` event.
 */
function setVisibility(page: Page, state: "hidden" | "visible"): Promise<void> {
  return page.evaluate((value) => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => value });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
}

// A message that arrives while the open conversation's tab is hidden stays unread (the user has not
// seen it); when the tab is shown again the message is on screen, so it is marked read then — not
// only when the next message arrives.
describe("an open conversation in a hidden tab", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("stays unread while hidden and is marked read when the tab is shown again", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const { tabs, alice, bob } = await aliceTabsShowingBob(driven, server.url, 1);
    const tab = tabs[0]!;

    await setVisibility(tab, "hidden");
    const body = `while hidden ${Date.now()}`;
    await api(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: body });
    await waitFor(async () => (await shownBodies(tab, body)).length === 1, 10_000, "the message in the hidden tab");
    await waitFor(async () => (await unreadShown(tab)) === "1", 5000, "unread 1 while hidden");
    await sleep(500);
    expect(await unreadShown(tab)).toBe("1");

    await setVisibility(tab, "visible");
    await waitFor(async () => (await unreadShown(tab)) === "0", 5000, "unread 0 once shown");
    const serverSide = await api<{ unread_count: number }>(server.url, alice.accessToken, "GET", RestPath.unreadCount);
    expect(serverSide.body.unread_count).toBe(0);
  });
});
