import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { waitFor } from "./support/metrics.js";
import { badgeText, openTabs, unreadShown } from "./support/tabs.js";

// Issue 5, test 2: a message sent to the user over REST reaches every tab within 1 s; unread
// count and badge follow; marking read in one tab clears it everywhere.
describe("fan-out of a message and of mark-read", () => {
  const world = useBrowserWorld();

  it("reaches every tab within 1 s, updates unread and badge, and a read in one tab clears all", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    await configureAndSignIn(driven, server.url, "alice");
    const { web, app, all } = await openTabs(driven, server.url, 3);
    const worker = await driven.serviceWorker();
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    // Every chat tab lists the conversation with bob, so the message must land in its DOM (the popup shows the count).
    for (const page of [...web, app]) await page.getByTestId(`conversation-${bob.user.id}`).waitFor();

    const body = `hello from bob ${Date.now()}`;
    const sent = await api<{ message: ChatMessage }>(server.url, bob.accessToken, "POST", RestPath.messages, {
      to: alice.user.id,
      body,
      clientMsgId: `e2e-${Date.now()}`,
    });
    expect(sent.status).toBe(201);
    const started = Date.now();
    await Promise.all([...web, app].map((page) => page.getByTestId(`conversation-${bob.user.id}`).getByText(body).waitFor({ timeout: 1000 })));
    expect(Date.now() - started).toBeLessThan(1000);

    await waitFor(async () => (await Promise.all(all.map(unreadShown))).every((count) => count === "1"), 5000, "unread 1 in every tab");
    await waitFor(async () => (await badgeText(worker)) === "1", 5000, "badge 1");
    for (const page of [...web, app]) {
      expect(await page.getByTestId(`conversation-${bob.user.id}`).getByTestId("conversation-unread").textContent()).toBe("1");
    }

    // Opening the conversation in one web tab marks it read there; every tab follows.
    await web[0]!.getByTestId(`conversation-${bob.user.id}`).click();
    await web[0]!.getByTestId("messages").getByText(body).waitFor();
    await waitFor(async () => (await Promise.all(all.map(unreadShown))).every((count) => count === "0"), 5000, "unread 0 in every tab");
    await waitFor(async () => (await badgeText(worker)) === "", 5000, "badge cleared");
    for (const page of [...web, app]) {
      await page.getByTestId(`conversation-${bob.user.id}`).getByTestId("conversation-unread").waitFor({ state: "detached" });
    }
    const serverSide = await api<{ unread_count: number }>(server.url, alice.accessToken, "GET", RestPath.unreadCount);
    expect(serverSide.body.unread_count).toBe(0);
  });
});
