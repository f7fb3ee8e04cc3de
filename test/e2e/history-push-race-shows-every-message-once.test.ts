import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep, waitFor } from "./support/metrics.js";
import { openTabs } from "./support/tabs.js";

// Issue 12, fault 2: a tab that opened a conversation just before a burst of pushed messages kept
// missing one of them for good — the history request and the pushed events raced. Tabs open the
// conversation at different moments while messages stream in; each must end up showing every
// message once, in order.
describe("history load racing pushed messages", () => {
  const world = useBrowserWorld();

  it("every tab that opens the conversation mid-stream shows every message exactly once", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    await configureAndSignIn(driven, server.url, "alice");
    const { web, app } = await openTabs(driven, server.url, 3);
    const tabs = [...web, app];
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    for (const tab of tabs) await tab.getByTestId(`conversation-${bob.user.id}`).waitFor();

    const stamp = Date.now();
    const bodies = Array.from({ length: 30 }, (_, i) => `stream ${stamp} #${String(i).padStart(2, "0")}`);
    const streaming = (async () => {
      for (const [i, body] of bodies.entries()) {
        await api<{ message: ChatMessage }>(server.url, bob.accessToken, "POST", RestPath.messages, {
          to: alice.user.id,
          body,
          clientMsgId: `stream-${stamp}-${i}`,
        });
        await sleep(25);
      }
    })();
    // Each tab opens the conversation at another point of the stream (its history request in flight while pushes arrive).
    for (const tab of tabs) {
      await sleep(120);
      await tab.getByTestId(`conversation-${bob.user.id}`).click();
    }
    await streaming;

    for (const tab of tabs) {
      const shownStream = async () => (await tab.getByTestId("message").allTextContents()).filter((text) => text.startsWith(`stream ${stamp}`));
      await waitFor(async () => (await shownStream()).length >= bodies.length, 10_000, "the whole stream in the tab").catch(() => undefined);
      expect(await shownStream()).toEqual(bodies);
    }
  });
});
