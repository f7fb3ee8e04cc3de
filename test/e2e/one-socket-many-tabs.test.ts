import { mkdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { api, login } from "../helpers/chat-client.js";
import { configureAndSignIn, launchDrivenBrowser, REPO_ROOT } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric } from "./support/metrics.js";
import { openTabs } from "./support/tabs.js";

// Issue 5, test 1: however many tabs and extension pages are open, the browser holds one socket.
describe("one socket for many tabs", () => {
  const world = useBrowserWorld();

  it("3 web-app tabs + the app page + the popup → switchboard_ws_connections is 1", { timeout: 60_000 }, async () => {
    const { server, driven } = world;
    await configureAndSignIn(driven, server.url, "alice");
    const { web, app, popup } = await openTabs(driven, server.url, 3);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(1);

    // The composer: Enter sends through the hub's socket; pending until acked; every tab's list follows.
    const bob = await login(server.url, "bob");
    const alice = await login(server.url, "alice");
    await api(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body: "Lunch at noon?", clientMsgId: `lunch-${Date.now()}` });
    await app.getByTestId(`conversation-${bob.user.id}`).click();
    await app.getByTestId("messages").getByText("Lunch at noon?").waitFor();
    await app.getByTestId("composer").fill("Sure — see you there");
    await app.getByTestId("composer").press("Enter");
    const mine = app.getByTestId("message").filter({ hasText: "Sure — see you there" });
    await mine.and(app.locator('[data-pending="false"]')).waitFor();
    expect(await mine.count()).toBe(1);
    await Promise.all(web.map((page) => page.getByTestId(`conversation-${bob.user.id}`).getByText("Sure — see you there").waitFor()));

    const artifacts = path.join(REPO_ROOT, "test-artifacts");
    await mkdir(artifacts, { recursive: true });
    await app.screenshot({ path: path.join(artifacts, "app-page.png") });
    await popup.setViewportSize({ width: 360, height: 260 });
    await popup.screenshot({ path: path.join(artifacts, "popup.png") });
  });

  it("the web app without the extension coordinates its tabs: sign-in form and a quiet hint, no socket before sign-in", { timeout: 60_000 }, async () => {
    const { server } = world;
    const plain = await launchDrivenBrowser({ extensionDir: null });
    try {
      const connects = await metric(server, "switchboard_ws_connects_total");
      const page = await plain.open(`${server.url}/`);
      await page.locator('form[data-testid="sign-in"]').waitFor({ timeout: 10_000 });
      await page.getByTestId("extension-hint").waitFor();
      expect(await page.evaluate(() => document.documentElement.dataset.switchboardHome)).toBe("coordinator");
      expect(await metric(server, "switchboard_ws_connects_total")).toBe(connects);
    } finally {
      await plain.close();
    }
  });
});
