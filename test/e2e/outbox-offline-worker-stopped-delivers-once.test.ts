/// <reference types="chrome" />  // `chrome.*` inside worker.evaluate callbacks
import type { CDPSession, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { APP_PAGE, configureAndSignIn, EXTENSION_URL, type DrivenBrowser } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep, waitFor } from "./support/metrics.js";
import { cutNetwork } from "./support/network.js";
import { allShow, banner } from "./support/tabs.js";

// Issue 12: messages typed while the network is cut (CDP offline on the worker and the tabs), in
// two tabs, survive the worker being stopped; back online, the recipient gets each exactly once,
// in the order typed.
describe("outbox: offline, worker stopped, back online", () => {
  const world = useBrowserWorld();

  it("delivers the 5 messages typed offline in two tabs exactly once, in order", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const first = await configureAndSignIn(driven, server.url, "alice", { keepaliveMs: 1000, backoffBaseMs: 200 });
    const second = await driven.open(APP_PAGE);
    const tabs = [first, second];
    await allShow(tabs, ConnectionState.open);
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    for (const tab of tabs) {
      await tab.getByTestId(`conversation-${bob.user.id}`).click();
      await tab.getByTestId("composer").waitFor();
    }

    const network = await cutNetwork(driven, [EXTENSION_URL]);
    await waitFor(async () => !(await banner(first, ConnectionState.open).isVisible()), 15_000, "the tabs no longer show connected");

    const prefix = `offline ${Date.now()} #`;
    const bodies = [1, 2, 3, 4, 5].map((n) => `${prefix}${n}`);
    for (const [index, body] of bodies.entries()) {
      const tab = tabs[index % 2]!;
      await type(tab, body);
      // Stored by the hub (the reply came) and shown pending in both tabs before the next is typed.
      for (const shown of tabs) await shown.locator('[data-testid="message"][data-state="pending"]', { hasText: body }).waitFor({ timeout: 5000 });
    }
    await first.getByTestId("outbox-waiting").and(first.locator('[data-count="5"]')).waitFor({ timeout: 5000 });
    const worker = await driven.serviceWorker();
    const queued = await worker.evaluate(async () => ((await chrome.storage.local.get("outbox")).outbox as { entries: unknown[] }).entries.length);
    expect(queued).toBe(5);

    await stopWorker(driven);
    await network.restore();

    const received = async () => {
      const response = await api<{ messages: ChatMessage[] }>(server.url, bob.accessToken, "GET", `${RestPath.messages}?peerId=${alice.user.id}&limit=50`);
      return response.body.messages.filter((message) => message.body.startsWith(prefix));
    };
    await waitFor(async () => (await received()).length >= 5, 30_000, "bob received the 5 messages");
    await sleep(1500); // a duplicate would arrive within this window (retries run every ≤ 1.6 s here)
    const messages = await received();
    expect(messages.map((message) => message.body)).toEqual(bodies);
    for (const tab of tabs) {
      await waitFor(async () => (await tab.locator('[data-testid="message"][data-state="pending"]').count()) === 0, 15_000, "no message left pending");
      expect(await tab.locator('[data-testid="message"]', { hasText: prefix }).count()).toBe(5);
    }
  });
});

async function type(tab: Page, body: string): Promise<void> {
  const composer = tab.getByTestId("composer");
  await composer.fill(body);
  await composer.press("Enter");
}

/** Stop the extension's worker as Chrome does when idle (`ServiceWorker.stopWorker`). */
async function stopWorker(driven: DrivenBrowser): Promise<void> {
  const cdp: CDPSession = await driven.context.newCDPSession(driven.context.pages()[0]!);
  const running: string[] = [];
  cdp.on("ServiceWorker.workerVersionUpdated", ({ versions }) => {
    for (const version of versions) if (version.scriptURL.startsWith(EXTENSION_URL) && version.runningStatus === "running") running.push(version.versionId);
  });
  await cdp.send("ServiceWorker.enable");
  await waitFor(() => running.length > 0, 5000, "the extension's worker is listed");
  await cdp.send("ServiceWorker.stopWorker", { versionId: running.at(-1)! });
  await cdp.detach();
}
