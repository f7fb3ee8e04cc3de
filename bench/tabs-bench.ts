/**
 * `npm run bench:tabs` — the extension (one socket in the service worker, fanned out to every
 * tab) against a naive page mode that behaves like the old app (each tab its own socket, a 60 s
 * profile poll with a cache-buster), with 1, 5, 10 and 20 tabs in one run, in real Chromium.
 *
 * Measured per (mode, tabs): sockets held (gauge, max and at the end of the window) and socket
 * connects, profile requests per hour (extrapolated from an idle window), profile GETs caused by
 * one profile change, and fan-out latency p50/p99 from just before the server is asked to send
 * (REST POST by another user) to the moment each tab's DOM shows the message, plus the share of
 * tabs that got it at all. Report: bench/results/tabs-bench.{json,md,svg}.
 *
 * Knobs: BENCH_TABS (default "1,5,10,20"), BENCH_WINDOW_MS (idle window after the messages, default 60000),
 * BENCH_MESSAGES (per step, default 60), BENCH_MODES (default "extension,naive"; for iterating on one mode —
 * the committed report is a full run).
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CDPSession, Page } from "playwright-core";
import { RestPath, type ChatMessage, type LoginResponse } from "../shared/protocol/index.js";
import { NAIVE_AUTH_KEY } from "../shared/sdk/naive-baseline.js";
import { configureAndSignIn, launchDrivenBrowser, type DrivenBrowser } from "../test/helpers/chromium.js";
import { api, login } from "../test/helpers/chat-client.js";
import type { ServerProcess } from "../test/helpers/server-process.js";
import { startE2eServer } from "../test/e2e/support/e2e-server.js";
import { metric, profileGets } from "../test/e2e/support/metrics.js";
import { log, machineInfo, percentile, writeReport } from "./lib/report.js";
import { barChartSvg } from "./tabs-chart.js";

const TAB_COUNTS = (process.env.BENCH_TABS ?? "1,5,10,20").split(",").map(Number);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 60);
const MODES = (process.env.BENCH_MODES ?? "extension,naive").split(",") as Mode[];
/** Spaced so 20 tabs' rendering (≈ 0.4 s of main-thread time per message here) does not queue up. */
const MESSAGE_SPACING_MS = 300;
/**
 * Every tab but one is a background tab; Chromium deprioritises background renderers, which on a
 * busy 2-core machine dominates the numbers. Measure the pipeline itself, as Playwright's own
 * launcher does by default (both modes get the same flags).
 */
const BROWSER_ARGS = ["--disable-renderer-backgrounding", "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"];
const loadAtStart = os.loadavg()[0]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Mode = "extension" | "naive";

interface StepResult {
  mode: Mode;
  tabs: number;
  socketsAtEnd: number;
  socketsMax: number;
  connectsInStep: number;
  profileRequestsPerHour: number;
  profileGetsPerChange: number;
  /** From the server's `createdAt` of the message (stamped at insert, just before it is published) to each tab's DOM. */
  fanOut: { p50Ms: number; p99Ms: number; maxMs: number; delivered: number; expected: number };
  /** The same, but from just before the REST request that asks the server to send (adds the HTTP round trip and the insert). */
  endToEnd: { p50Ms: number; p99Ms: number };
  /** Main-thread task time a tab spends per message (CDP Performance `TaskDuration`), mean over tabs, and summed over all tabs. */
  tabTaskMsPerMessage: number;
  allTabsTaskMsPerMessage: number;
  /** CPU time per message (CDP Performance `ThreadTime` / `ProcessTime`): the main thread, and the whole renderer process, mean over tabs. */
  tabMainCpuMsPerMessage: number;
  tabProcessCpuMsPerMessage: number;
  /** The renderer processes' CPU per message summed over all tabs. */
  allTabsProcessCpuMsPerMessage: number;
}

/**
 * Records, in the page, when each `bench-…` marker first appears in the DOM. A string, not a
 * function: tsx (esbuild) would wrap a function with a `__name` helper the page does not have.
 */
const OBSERVER_SCRIPT = `(() => {
  const seen = {};
  window.benchSeen = seen;
  const scan = (text, now) => { for (const marker of (text || "").match(/bench-\\d+-\\d+/g) || []) seen[marker] ??= now; };
  new MutationObserver((mutations) => {
    const now = Date.now();
    for (const mutation of mutations) {
      if (mutation.type === "characterData") scan(mutation.target.textContent, now);
      else for (const node of mutation.addedNodes) scan(node.textContent, now);
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;

function installObserver(page: Page): Promise<void> {
  return page.evaluate(OBSERVER_SCRIPT);
}

const sessions = new WeakMap<Page, CDPSession>();

interface TabTimes {
  /** Main-thread task time, wall clock (includes time the thread waited for a core). */
  task: number;
  /** CPU time of the main thread, and of the whole renderer process (raster, compositor, IO threads too). */
  thread: number;
  process: number;
}

/** Seconds of main-thread task time and CPU time the tab has used so far (CDP Performance metrics). */
async function taskSeconds(page: Page): Promise<TabTimes> {
  let session = sessions.get(page);
  if (!session) {
    session = await page.context().newCDPSession(page);
    await session.send("Performance.enable");
    sessions.set(page, session);
  }
  const { metrics } = await session.send("Performance.getMetrics");
  const value = (name: string) => metrics.find((metric) => metric.name === name)?.value ?? NaN;
  return { task: value("TaskDuration"), thread: value("ThreadTime"), process: value("ProcessTime") };
}

function seenTimes(page: Page): Promise<Record<string, number>> {
  return page.evaluate("window.benchSeen") as Promise<Record<string, number>>;
}

async function runStep(
  mode: Mode,
  server: ServerProcess,
  pages: Page[],
  alice: LoginResponse,
  bob: LoginResponse,
  step: number,
  connectsBefore: number,
): Promise<StepResult> {
  await Promise.all(pages.map(installObserver));
  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await metric(server, "switchboard_ws_connections"));
      await sleep(1000);
    }
  })();

  // Fan-out: messages from bob to alice, stamped before the request and by the server (createdAt).
  const requestedAt = new Map<string, number>();
  const createdAt = new Map<string, number>();
  const tasksBefore = await Promise.all(pages.map(taskSeconds));
  for (let i = 0; i < MESSAGES; i++) {
    const marker = `bench-${step}-${i}`;
    requestedAt.set(marker, Date.now());
    const sent = await api<{ message: ChatMessage }>(server.url, bob.accessToken, "POST", RestPath.messages, {
      to: alice.user.id,
      body: marker,
      clientMsgId: `${marker}-${Date.now()}`,
    });
    createdAt.set(marker, Date.parse(sent.body.message.createdAt));
    await sleep(MESSAGE_SPACING_MS);
  }

  await sleep(1000);
  const tasksAfter = await Promise.all(pages.map(taskSeconds));
  const perMessage = (pick: (times: TabTimes) => number) => tasksAfter.map((after, i) => ((pick(after) - pick(tasksBefore[i]!)) * 1000) / MESSAGES);
  const taskMs = perMessage((times) => times.task);
  const threadMs = perMessage((times) => times.thread);
  const processMs = perMessage((times) => times.process);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const mean = (values: number[]) => Math.round((sum(values) / values.length) * 10) / 10;

  // Idle window of a whole poll period (60 s): every naive tab polls exactly once in it, whatever its phase.
  const profileBefore = await profileGets(server);
  const idleStart = Date.now();
  await sleep(WINDOW_MS);
  const idleMs = Date.now() - idleStart;
  sampling = false;
  await sampler;
  const profileIdle = (await profileGets(server)) - profileBefore;

  // One profile change: how many profile GETs does the browser make for it?
  const beforeChange = await profileGets(server);
  await api(server.url, alice.accessToken, "PATCH", RestPath.profileMe, { bio: `bench step ${step}` });
  await sleep(3000);
  const profileGetsPerChange = (await profileGets(server)) - beforeChange;

  const latencies: number[] = [];
  const endToEnd: number[] = [];
  for (const page of pages) {
    const seen = await seenTimes(page);
    for (const [marker, at] of createdAt) {
      const shownAt = seen[marker];
      if (shownAt === undefined) continue;
      latencies.push(shownAt - at);
      endToEnd.push(shownAt - requestedAt.get(marker)!);
    }
  }
  latencies.sort((a, b) => a - b);
  endToEnd.sort((a, b) => a - b);
  if (process.env.BENCH_DEBUG) {
    const seen = await Promise.all(pages.map(seenTimes));
    const lastTab = [...createdAt].map(([marker, at]) => Math.max(...seen.map((times) => (times[marker] ?? NaN) - at)));
    const firstTab = [...createdAt].map(([marker, at]) => Math.min(...seen.map((times) => (times[marker] ?? NaN) - at)));
    log(`per message, first tab: ${firstTab.join(" ")}`);
    log(`per message, last tab: ${lastTab.join(" ")}`);
  }
  return {
    mode,
    tabs: pages.length,
    socketsAtEnd: samples.at(-1) ?? NaN,
    socketsMax: Math.max(...samples),
    connectsInStep: (await metric(server, "switchboard_ws_connects_total")) - connectsBefore,
    profileRequestsPerHour: Math.round((profileIdle * 3_600_000) / idleMs),
    profileGetsPerChange,
    fanOut: {
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      delivered: latencies.length,
      expected: MESSAGES * pages.length,
    },
    endToEnd: { p50Ms: percentile(endToEnd, 50), p99Ms: percentile(endToEnd, 99) },
    tabTaskMsPerMessage: mean(taskMs),
    allTabsTaskMsPerMessage: Math.round(sum(taskMs)),
    tabMainCpuMsPerMessage: mean(threadMs),
    tabProcessCpuMsPerMessage: mean(processMs),
    allTabsProcessCpuMsPerMessage: Math.round(sum(processMs)),
  };
}

async function openTabsUpTo(driven: DrivenBrowser, url: string, pages: Page[], count: number, ready: (page: Page) => Promise<unknown>): Promise<void> {
  while (pages.length < count) {
    const page = await driven.open(url);
    await ready(page);
    pages.push(page);
  }
}

async function runMode(mode: Mode, server: ServerProcess, results: StepResult[]): Promise<void> {
  const alice = await login(server.url, "alice");
  const bob = await login(server.url, "bob");
  const driven = await launchDrivenBrowser({ extensionDir: mode === "naive" ? null : undefined, extraArgs: BROWSER_ARGS });
  try {
    const pages: Page[] = [];
    let url = `${server.url}/`;
    let ready = (page: Page) => page.getByTestId(`conversation-${bob.user.id}`).waitFor({ timeout: 20_000 });
    if (mode === "extension") {
      const app = await configureAndSignIn(driven, server.url, "alice");
      await app.close();
    } else {
      url = `${server.url}/?mode=naive`;
      ready = (page) => page.getByTestId("messages").waitFor({ state: "attached", timeout: 20_000 });
      const first = await driven.open(url);
      await first.evaluate(`localStorage.setItem(${JSON.stringify(NAIVE_AUTH_KEY)}, ${JSON.stringify(JSON.stringify(alice))})`);
      await first.close();
    }
    for (const [index, tabs] of TAB_COUNTS.entries()) {
      // Sockets opened count from before this step's new tabs: opening a tab is when the old app connects.
      const connectsBefore = await metric(server, "switchboard_ws_connects_total");
      await openTabsUpTo(driven, url, pages, tabs, ready);
      await sleep(1000);
      log(`${mode}: ${tabs} tab(s) open, measuring (${MESSAGES} messages, then ${WINDOW_MS / 1000} s idle)`);
      const result = await runStep(mode, server, pages, alice, bob, index + (mode === "naive" ? 100 : 0), connectsBefore);
      log(
        `${mode} ${tabs}: tab task ${result.tabTaskMsPerMessage} ms/message (all tabs ${result.allTabsTaskMsPerMessage}), CPU main ${result.tabMainCpuMsPerMessage} process ${result.tabProcessCpuMsPerMessage} (all tabs ${result.allTabsProcessCpuMsPerMessage}), sockets ${result.socketsAtEnd} (max ${result.socketsMax}), connects ${result.connectsInStep}, profile ${result.profileRequestsPerHour}/h + ${result.profileGetsPerChange}/change, p50 ${result.fanOut.p50Ms} ms, p99 ${result.fanOut.p99Ms} ms (from request: ${result.endToEnd.p50Ms}/${result.endToEnd.p99Ms}), delivered ${result.fanOut.delivered}/${result.fanOut.expected}`,
      );
      results.push(result);
    }
  } finally {
    await driven.close();
  }
}

function markdown(results: StepResult[], machine: ReturnType<typeof machineInfo>): string {
  const row = (r: StepResult) =>
    `| ${r.mode} | ${r.tabs} | ${r.socketsAtEnd} (max ${r.socketsMax}) | ${r.connectsInStep} | ${r.profileRequestsPerHour} | ${r.profileGetsPerChange} | ${r.fanOut.p50Ms} | ${r.fanOut.p99Ms} | ${r.endToEnd.p50Ms} / ${r.endToEnd.p99Ms} | ${r.fanOut.delivered}/${r.fanOut.expected} | ${r.tabTaskMsPerMessage} / ${r.allTabsTaskMsPerMessage} | ${r.tabMainCpuMsPerMessage} / ${r.tabProcessCpuMsPerMessage} / ${r.allTabsProcessCpuMsPerMessage} |`;
  const ext20 = results.find((r) => r.mode === "extension" && r.tabs === Math.max(...TAB_COUNTS));
  const extension = results.filter((r) => r.mode === "extension");
  const verdicts = [
    `- 1 socket whatever the tab count: ${extension.every((r) => r.socketsMax === 1) ? "**met**" : "**not met**"} (max per step: ${extension.map((r) => r.socketsMax).join(", ")})`,
    `- profile requests independent of tab count (≤ 12/h + 1 per change): ${extension.every((r) => r.profileRequestsPerHour <= 12 && r.profileGetsPerChange <= 1) ? "**met**" : "**not met**"}`,
    `- fan-out p99 < 100 ms at ${ext20?.tabs} tabs: ${ext20 && ext20.fanOut.p99Ms < 100 ? "**met**" : "**not met**"} (${ext20?.fanOut.p99Ms} ms)`,
  ];
  return [
    "# Tabs benchmark: extension vs naive page mode",
    "",
    `Run ${machine.date} on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; Chromium headless (Debian), the server as its own process (\`dist/server/src/main.js\`) with a private redis-server and PGlite.`,
    `Load average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${os.loadavg()[0]!.toFixed(2)} — the machine is shared, latencies move with it.`,
    "Fan-out latency is measured from the message's server `createdAt` (stamped at insert, just before it is published) to the moment each tab's DOM shows it (a MutationObserver in the tab); \"from request\" starts before the REST call instead.",
    `Chromium flags added for both modes: ${BROWSER_ARGS.map((a) => `\`${a}\``).join(" ")} (background tabs otherwise get a lower CPU priority).`,
    `Per step: ${MESSAGES} messages (one every ${MESSAGE_SPACING_MS} ms) from another user over REST, then an idle window of ${WINDOW_MS / 1000} s (one whole naive poll period) in which profile requests are counted, then one profile change (PATCH, 3 s observed).`,
    "",
    "| mode | tabs | sockets held (max) | sockets opened (new tabs + window) | profile req/h (idle, extrapolated) | profile GETs per change | fan-out p50 ms | fan-out p99 ms | from request p50 / p99 ms | delivered (tab × message) | tab main-thread task ms per message, wall clock (mean / all tabs) | tab CPU ms per message: main thread / whole renderer (mean) / all tabs' renderers |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(row),
    "",
    "Targets (extension):",
    ...verdicts,
    "",
    "The last two columns are where fan-out time goes. The first is CDP `TaskDuration`: how long the",
    "tab's main-thread tasks took by the wall clock, which includes the time the thread waited for one",
    "of the 2 cores while other tabs (and other work on the machine) ran. The second is CPU time (CDP",
    "`ThreadTime`, `ProcessTime`): the main thread (one update — list row and unread count — then style,",
    "layout and paint) and the whole renderer process (plus the compositor, software raster — headless",
    "Chromium runs without a GPU — and IO threads). The sum over all tabs is the CPU one message costs",
    "the tabs; on 2 cores the last tab waits for the others.",
    "",
    "The naive mode is the old app against the new server: each tab opens its own socket; the",
    "server's atomic replacement closes the older one with `1000 New connection established`, which",
    "the old rule (reconnect on anything but 1000) leaves closed, so only the newest tab receives",
    "events and every tab still polls the profile every 60 s with a cache-buster.",
    "",
    "![chart](tabs-bench.svg)",
  ].join("\n");
}

async function main(): Promise<void> {
  const server = await startE2eServer({ ACCESS_TOKEN_TTL_S: "7200" });
  const results: StepResult[] = [];
  try {
    for (const mode of MODES) await runMode(mode, server, results);
  } finally {
    await server.stop();
  }
  if (MODES.length < 2) {
    log("one mode only (BENCH_MODES): no report written");
    return;
  }
  const machine = machineInfo();
  const labels = TAB_COUNTS.map(String);
  const pick = (mode: Mode, value: (r: StepResult) => number) => TAB_COUNTS.map((tabs) => value(results.find((r) => r.mode === mode && r.tabs === tabs)!));
  const svg = barChartSvg("Switchboard tabs benchmark — extension vs naive page mode", labels, [
    {
      title: "Sockets opened (new tabs + window)",
      unit: "connects",
      series: { extension: pick("extension", (r) => r.connectsInStep), naive: pick("naive", (r) => r.connectsInStep) },
    },
    {
      title: "Profile requests per hour (idle)",
      unit: "requests/h",
      series: { extension: pick("extension", (r) => r.profileRequestsPerHour), naive: pick("naive", (r) => r.profileRequestsPerHour) },
      target: { value: 12, label: "target ≤ 12/h" },
    },
    {
      title: "Fan-out p99 to each tab's DOM (naive: newest tab only)",
      unit: "ms",
      series: { extension: pick("extension", (r) => r.fanOut.p99Ms), naive: pick("naive", (r) => r.fanOut.p99Ms) },
      target: { value: 100, label: "target < 100 ms" },
    },
  ]);
  const files = await writeReport(
    "tabs-bench",
    { machine, tabCounts: TAB_COUNTS, windowMs: WINDOW_MS, messages: MESSAGES, results },
    markdown(results, machine),
  );
  const svgPath = path.resolve("bench/results/tabs-bench.svg");
  await writeFile(svgPath, svg);
  log(`wrote ${[...files, svgPath].join(", ")}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
