/// <reference types="chrome" />  // `chrome.*` inside worker.evaluate callbacks
/**
 * The outbox part of `npm run bench:tabs`: OUTBOX_MESSAGES messages typed offline (CDP offline on
 * the extension's worker and its app pages) across OUTBOX_TABS app tabs, then the network back:
 * time from back online to the last ack (the worker's stored outbox empty) and to the last message
 * stored by the server, and duplicates (messages the recipient holds more than once; must be 0).
 * Knobs: BENCH_OUTBOX_MESSAGES (default 100), BENCH_OUTBOX_TABS (default 5), BENCH_OUTBOX=0 skips it.
 */
import type { Page } from "playwright-core";
import { RestPath, type ChatMessage } from "../shared/protocol/index.js";
import { APP_PAGE, configureAndSignIn, EXTENSION_URL, launchDrivenBrowser } from "../test/helpers/chromium.js";
import { api, login } from "../test/helpers/chat-client.js";
import type { ServerProcess } from "../test/helpers/server-process.js";
import { waitFor } from "../test/e2e/support/metrics.js";
import { cutNetwork } from "../test/e2e/support/network.js";
import { log } from "./lib/report.js";

export const OUTBOX_MESSAGES = Number(process.env.BENCH_OUTBOX_MESSAGES ?? 100);
export const OUTBOX_TABS = Number(process.env.BENCH_OUTBOX_TABS ?? 5);
const KEEPALIVE_MS = 2000;
/** The server's largest page of `GET /api/messages`. */
const PAGE_LIMIT = 200;

export interface OutboxResult {
  tabs: number;
  messages: number;
  /** Back online → the worker's outbox empty (every message acknowledged). */
  onlineToLastAckMs: number;
  /** Back online → the recipient's history holds every message. */
  onlineToAllStoredMs: number;
  received: number;
  duplicates: number;
  /** Received, but not in the order typed within one tab's sequence. */
  outOfOrder: number;
}

export async function runOutboxDrain(server: ServerProcess, browserArgs: string[]): Promise<OutboxResult> {
  const alice = await login(server.url, "alice");
  const bob = await login(server.url, "bob");
  const driven = await launchDrivenBrowser({ extraArgs: browserArgs });
  try {
    // A short keepalive: CDP offline leaves an open socket up until the dead-link check (2.5 intervals) ends it.
    const first = await configureAndSignIn(driven, server.url, "alice", { keepaliveMs: KEEPALIVE_MS });
    const tabs: Page[] = [first];
    while (tabs.length < OUTBOX_TABS) tabs.push(await driven.open(APP_PAGE));
    for (const tab of tabs) {
      await tab.getByTestId(`conversation-${bob.user.id}`).click();
      await tab.getByTestId("composer").waitFor();
    }
    const worker = await driven.serviceWorker();
    const queued = () =>
      worker.evaluate(async () => ((await chrome.storage.local.get("outbox")).outbox as { entries?: unknown[] } | undefined)?.entries?.length ?? 0);

    const network = await cutNetwork(driven, [EXTENSION_URL]);
    await waitFor(async () => (await first.locator('[data-testid="connection-banner"][data-state="open"]').count()) === 0, 15_000, "offline");
    const prefix = `outbox bench ${Date.now()} #`;
    const bodies = Array.from({ length: OUTBOX_MESSAGES }, (_, i) => `${prefix}${String(i).padStart(4, "0")}`);
    for (const [i, body] of bodies.entries()) {
      const composer = tabs[i % tabs.length]!.getByTestId("composer");
      await composer.fill(body);
      await composer.press("Enter");
    }
    await waitFor(async () => (await queued()) === OUTBOX_MESSAGES, 60_000, "every message queued");
    log(`outbox: ${OUTBOX_MESSAGES} messages queued offline across ${tabs.length} tabs; back online`);

    const online = Date.now();
    await network.restore();
    await waitFor(async () => (await queued()) === 0, 300_000, "the outbox drained");
    const onlineToLastAckMs = Date.now() - online;
    const received = async () => {
      const response = await api<{ messages: ChatMessage[] }>(
        server.url,
        bob.accessToken,
        "GET",
        `${RestPath.messages}?peerId=${alice.user.id}&limit=${PAGE_LIMIT}`,
      );
      return response.body.messages.filter((message) => message.body.startsWith(prefix));
    };
    await waitFor(async () => (await received()).length >= OUTBOX_MESSAGES, 60_000, "every message stored");
    const onlineToAllStoredMs = Date.now() - online;
    const messages = await received();
    const unique = new Set(messages.map((message) => message.body));
    // One conversation, typed in this order: the server's order must be the same.
    const order = messages.map((message) => bodies.indexOf(message.body));
    const outOfOrder = order.filter((index, i) => i > 0 && index < order[i - 1]!).length;
    return {
      tabs: tabs.length,
      messages: OUTBOX_MESSAGES,
      onlineToLastAckMs,
      onlineToAllStoredMs,
      received: messages.length,
      duplicates: messages.length - unique.size,
      outOfOrder,
    };
  } finally {
    await driven.close();
  }
}

export function outboxMarkdown(result: OutboxResult | null): string[] {
  if (!result) return [];
  return [
    "",
    `## Outbox: ${result.messages} messages typed offline across ${result.tabs} tabs (extension)`,
    "",
    `CDP \`Network.emulateNetworkConditions\` offline on the worker and the app pages; the messages typed round-robin into the tabs; then the network restored. Timed from back online. The worker runs with a ${KEEPALIVE_MS} ms keepalive (CDP offline leaves an open socket up until the dead-link check ends it) and the default backoff base (1 s).`,
    "",
    "| messages | tabs | online → last ack ms | online → all stored ms | received | duplicates (target 0) | out of order |",
    "|---|---|---|---|---|---|---|",
    `| ${result.messages} | ${result.tabs} | ${result.onlineToLastAckMs} | ${result.onlineToAllStoredMs} | ${result.received} | ${result.duplicates} ${result.duplicates === 0 ? "**met**" : "**not met**"} | ${result.outOfOrder} |`,
  ];
}
