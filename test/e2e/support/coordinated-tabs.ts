import type { CDPSession, Page } from "playwright-core";
import { ConnectionState } from "../../../shared/sdk/connection-state.js";
import { login } from "../../helpers/chat-client.js";
import type { DrivenBrowser } from "../../helpers/chromium.js";
import { allShow } from "./tabs.js";
import { waitFor } from "./metrics.js";

/** Web-app tabs of a browser without the extension (the tabs coordinate: one leader holds the socket). */
export async function openWebTabs(driven: DrivenBrowser, serverUrl: string, count: number, query = ""): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await driven.open(`${serverUrl}/${query}`));
  return pages;
}

/** Sign in through the web app's own form in `page`; every tab of the origin follows. */
export async function signInWeb(page: Page, username: string): Promise<void> {
  await page.locator('form[data-testid="sign-in"]').waitFor({ timeout: 15_000 });
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill("demo");
  await page.locator('form[data-testid="sign-in"] button[type="submit"]').click();
}

/** Whether the tab runs the hub (the coordinated transport marks the document). */
export function isLeader(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.dataset.switchboardLeader === "true").catch(() => false);
}

/** The one leader among `pages`, once there is exactly one. */
export async function leaderOf(pages: Page[], timeoutMs = 15_000): Promise<Page> {
  let leaders: Page[] = [];
  await waitFor(
    async () => {
      const flags = await Promise.all(pages.map((page) => isLeader(page)));
      leaders = pages.filter((_, i) => flags[i]);
      return leaders.length === 1;
    },
    timeoutMs,
    "exactly one leader tab",
  );
  return leaders[0]!;
}

/**
 * The usual start: `count` web-app tabs signed in as alice (through the first one's form), all
 * connected, each showing her conversation with bob; both users' own REST sessions beside them.
 */
export async function aliceTabsShowingBob(driven: DrivenBrowser, serverUrl: string, count: number, query = "") {
  const tabs = await openWebTabs(driven, serverUrl, count, query);
  await signInWeb(tabs[0]!, "alice");
  await allOpen(tabs);
  const alice = await login(serverUrl, "alice");
  const bob = await login(serverUrl, "bob");
  await openConversation(tabs, bob.user.id);
  return { tabs, alice, bob };
}

export async function allOpen(pages: Page[], timeout = 20_000): Promise<void> {
  await allShow(pages, ConnectionState.open, timeout);
}

/** Open the conversation with `peerId` in every tab (each lists its messages in the DOM). */
export async function openConversation(pages: Page[], peerId: number): Promise<void> {
  for (const page of pages) {
    await page.getByTestId(`conversation-${peerId}`).click();
    await page.getByTestId("messages").waitFor({ state: "attached" });
  }
}

/** The bodies a tab's open conversation shows that start with `prefix`, in DOM order. */
export async function shownBodies(page: Page, prefix: string): Promise<string[]> {
  const texts = await page.getByTestId("message").allTextContents();
  return texts.filter((text) => text.includes(prefix)).map((text) => text.slice(text.indexOf(prefix)));
}

/** A CDP session on a tab (crash, freeze). */
export function cdp(driven: DrivenBrowser, page: Page): Promise<CDPSession> {
  return driven.context.newCDPSession(page);
}

/**
 * Freeze a tab: `Page.setWebLifecycleState frozen`, which Chromium honours only for a hidden page —
 * and headless Chromium shows every tab as visible, so the tab's script is also paused in the
 * debugger (`Debugger.pause`): no timer, no message handler runs, the lock and the socket stay held,
 * exactly what a frozen tab looks like to the others. `thaw` undoes both; queued tasks then run.
 */
export async function freeze(session: CDPSession): Promise<{ thaw(): Promise<void> }> {
  await session.send("Page.setWebLifecycleState", { state: "frozen" });
  await session.send("Debugger.enable");
  await session.send("Debugger.pause");
  return {
    async thaw() {
      await session.send("Debugger.resume");
      await session.send("Debugger.disable");
      await session.send("Page.setWebLifecycleState", { state: "active" });
    },
  };
}
