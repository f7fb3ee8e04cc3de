/// <reference types="chrome" />  // `chrome.*` inside worker.evaluate callbacks
import type { Page, Worker } from "playwright-core";
import { ConnectionState } from "../../../shared/sdk/connection-state.js";
import { APP_PAGE, POPUP_PAGE, type DrivenBrowser } from "../../helpers/chromium.js";

export const banner = (page: Page, state: ConnectionState) => page.locator(`[data-testid="connection-banner"][data-state="${state}"]`);

/** Wait until every page shows `state` on its connection banner. */
export async function allShow(pages: Page[], state: ConnectionState, timeout = 15_000): Promise<void> {
  await Promise.all(pages.map((page) => banner(page, state).waitFor({ timeout })));
}

/** `count` web-app tabs on the server origin, plus the app page and the popup page. */
export async function openTabs(driven: DrivenBrowser, serverUrl: string, webTabs: number): Promise<{ web: Page[]; app: Page; popup: Page; all: Page[] }> {
  const web: Page[] = [];
  for (let i = 0; i < webTabs; i++) web.push(await driven.open(`${serverUrl}/`));
  const app = await driven.open(APP_PAGE);
  const popup = await driven.open(POPUP_PAGE);
  const all = [...web, app, popup];
  await allShow(all, ConnectionState.open);
  return { web, app, popup, all };
}

export function badgeText(worker: Worker): Promise<string> {
  return worker.evaluate(() => chrome.action.getBadgeText({}));
}

export function unreadShown(page: Page): Promise<string | null> {
  return page.getByTestId("unread-count").getAttribute("data-count");
}
