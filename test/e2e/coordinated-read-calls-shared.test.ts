import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { api } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { aliceTabsShowingBob, shownBodies } from "./support/coordinated-tabs.js";
import { metric, sleep, waitFor } from "./support/metrics.js";

const READ_POSTS = `route="POST ${RestPath.messagesRead}",status="200"`;

// Every tab that shows a conversation marks it read when a message arrives in it. The hub they
// share makes one call for the requests that come together (and one more for those that came while
// it was in flight), so four tabs showing the conversation do not cost four calls a message.
describe("four tabs show the same conversation while messages arrive", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("about two read calls a message (not one per tab), the conversation ends read and the sender sees it", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const { tabs, alice, bob } = await aliceTabsShowingBob(driven, server.url, 4);
    await sleep(500); // opening marks whatever was unread: not counted below
    const before = await metric(server, "switchboard_http_requests_total", READ_POSTS);

    const stamp = Date.now();
    const count = 10;
    let last = 0;
    for (let i = 0; i < count; i++) {
      const sent = await api<{ message: { id: number } }>(server.url, bob.accessToken, "POST", RestPath.messages, {
        to: alice.user.id,
        body: `read ${stamp} #${i}`,
        clientMsgId: `read-${stamp}-${i}`,
      });
      last = sent.body.message.id;
      await sleep(300); // each message its own burst: every tab sees it and asks
    }
    for (const tab of tabs) await waitFor(async () => (await shownBodies(tab, `read ${stamp}`)).length === count, 10_000, "every message in every tab");
    // The sender's view: the last message is read.
    await waitFor(
      async () => {
        const history = await api<{ messages: Array<{ id: number; readAt: string | null }> }>(
          server.url,
          bob.accessToken,
          "GET",
          `${RestPath.messages}?peerId=${alice.user.id}&limit=5`,
        );
        return history.body.messages.find((m) => m.id === last)?.readAt != null;
      },
      10_000,
      "the last message read",
    );
    const calls = (await metric(server, "switchboard_http_requests_total", READ_POSTS)) - before;
    // One call per tab and message made 40. Now about two a message (20, 20, 21 in three runs): a
    // tab may ask twice for one message (the message and its unread count render apart), and an
    // ask that comes after the second call started waits for a third.
    expect(calls).toBeGreaterThanOrEqual(count);
    expect(calls).toBeLessThanOrEqual(2.5 * count);
  });
});
