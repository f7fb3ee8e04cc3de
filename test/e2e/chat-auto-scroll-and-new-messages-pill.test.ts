import path from "node:path";
import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { configureAndSignIn, REPO_ROOT } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep, waitFor } from "./support/metrics.js";

// Issue 12, the chat screen: newest at the bottom with the composer always visible; the list
// follows new messages unless the user scrolled up, when a "new messages" pill appears instead.
describe("chat screen scrolling", () => {
  const world = useBrowserWorld();

  it("keeps the newest message and the composer in view, and offers the pill after scrolling up", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const app = await configureAndSignIn(driven, server.url, "alice");
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await app.getByTestId(`conversation-${bob.user.id}`).click();
    // Focus lands in the composer.
    await waitFor(() => app.getByTestId("composer").evaluate((element) => element === document.activeElement), 5000, "the composer has focus");

    const stamp = Date.now();
    const send = (body: string, i: number) =>
      api<{ message: ChatMessage }>(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: `scroll-${stamp}-${i}` });
    for (let i = 0; i < 30; i++) await send(`scroll ${stamp} #${String(i).padStart(2, "0")}`, i);
    const newest = app.getByTestId("message").filter({ hasText: `scroll ${stamp} #29` });
    await newest.waitFor({ timeout: 10_000 });
    await sleep(300);
    await expectInView(newest, true);
    await expectInView(app.getByTestId("composer"), true);
    // My own message, typed with Enter (Shift+Enter is a newline), lands at the bottom too.
    await app.getByTestId("composer").fill("first line");
    await app.getByTestId("composer").press("Shift+Enter");
    await app.getByTestId("composer").press("Enter");
    const mine = app.locator('[data-testid="message"].mine').filter({ hasText: "first line" });
    await mine.waitFor({ timeout: 10_000 });
    await app.locator('[data-testid="message"].mine[data-state="sent"]').filter({ hasText: "first line" }).waitFor({ timeout: 10_000 });
    await sleep(200);
    await expectInView(mine, true);
    await app.screenshot({ path: path.join(REPO_ROOT, "test-artifacts", "chat-screen.png") });

    // Scrolled up: a new message does not yank the view; the pill offers it.
    await app.getByTestId("messages").evaluate((element) => {
      element.scrollTop = 0;
    });
    await sleep(200);
    await send(`scroll ${stamp} #30`, 30);
    const latest = app.getByTestId("message").filter({ hasText: `scroll ${stamp} #30` });
    await latest.waitFor({ state: "attached", timeout: 10_000 });
    await app.getByTestId("new-messages-pill").waitFor({ timeout: 5000 });
    await expectInView(latest, false);
    await app.getByTestId("new-messages-pill").click();
    await sleep(200);
    await expectInView(latest, true);
    expect(await app.getByTestId("new-messages-pill").count()).toBe(0);
  });
});

/** Whether the element is inside both the window and its scrolling message list. */
async function expectInView(locator: import("playwright-core").Locator, expected: boolean): Promise<void> {
  const inView = await locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const list = element.closest('[data-testid="messages"]')?.getBoundingClientRect() ?? { top: 0, bottom: window.innerHeight };
    return box.top >= Math.max(0, list.top) - 1 && box.bottom <= Math.min(window.innerHeight, list.bottom) + 1;
  });
  expect(inView).toBe(expected);
}
