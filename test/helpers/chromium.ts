/// <reference types="chrome" />  // `chrome.*` inside worker.evaluate callbacks
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page, type Worker } from "playwright-core";
import { EXTENSION_ID } from "../../shared/protocol/index.js";

/** The folder with package.json above this file (also when compiled into dist/ for the bench). */
function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
/** Debian's `chromium`; never a browser downloaded by a test tool (nothing but the package registries is reachable). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const EXTENSION_DIR = path.join(REPO_ROOT, "dist/extension");
export const WEB_APP_DIR = path.join(REPO_ROOT, "dist/web");
export const EXTENSION_URL = `chrome-extension://${EXTENSION_ID}`;
export const APP_PAGE = `${EXTENSION_URL}/src/pages/app.html`;
export const POPUP_PAGE = `${EXTENSION_URL}/src/pages/popup.html`;
export const OPTIONS_PAGE = `${EXTENSION_URL}/src/pages/options.html`;

/** Flags for a quiet, deterministic browser (no first-run UI, no background networking, no GPU), plus headless and no sandbox (CI runs as root without a display). */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  // Newer Chrome builds ignore --load-extension unless this feature is off.
  "--disable-features=DisableLoadExtensionCommandLineSwitch",
];

export interface ChromiumProcess {
  /** `http://127.0.0.1:<port>` of the DevTools HTTP endpoint. */
  readonly debugUrl: string;
  readonly wsEndpoint: string;
  readonly userDataDir: string;
  readonly process: ChildProcess;
  /** Open a tab through `PUT /json/new?URL` (works in headless, with or without Playwright). */
  openTab(url: string): Promise<{ id: string; url: string }>;
  close(): Promise<void>;
}

/** Fail loudly (CI installs Chromium and builds the extension first; a silent skip would hide a broken setup). */
export function assertBrowserPrerequisites(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set CHROMIUM_PATH. The e2e tests need a real browser.`);
  }
  for (const [dir, script] of [
    [EXTENSION_DIR, "build:extension"],
    [WEB_APP_DIR, "build:web"],
  ] as const) {
    if (!existsSync(path.join(dir, dir === EXTENSION_DIR ? "manifest.json" : "index.html"))) {
      throw new Error(`${dir} is missing: run "npm run ${script}" (or "npm run build") before the e2e tests.`);
    }
  }
}

export interface LaunchOptions {
  userDataDir?: string;
  /** The unpacked extension to load; `null` for a browser without it. @default dist/extension */
  extensionDir?: string | null;
  /** More command-line flags (e.g. the benchmark's `--disable-renderer-backgrounding`). */
  extraArgs?: string[];
}

/** Start Chromium directly (not through Playwright) with the extension loaded and a debugging port. */
export async function launchChromium(options: LaunchOptions = {}): Promise<ChromiumProcess> {
  assertBrowserPrerequisites();
  const ownsDir = !options.userDataDir;
  const userDataDir = options.userDataDir ?? (await mkdtemp(path.join(os.tmpdir(), "switchboard-chromium-")));
  const extensionDir = options.extensionDir === undefined ? EXTENSION_DIR : options.extensionDir;
  const extensionFlags = extensionDir ? [`--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`] : ["--disable-extensions"];
  const child = spawn(
    CHROMIUM_PATH,
    [...FLAGS, ...(options.extraArgs ?? []), `--user-data-dir=${userDataDir}`, "--remote-debugging-port=0", ...extensionFlags, "about:blank"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  const wsEndpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Chromium did not open its debugging port within 20 s:\n${stderr.slice(-2000)}`)), 20_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}) before it was ready:\n${stderr.slice(-2000)}`));
    });
  });
  const debugUrl = new URL(wsEndpoint).origin.replace("ws:", "http:");
  return {
    debugUrl,
    wsEndpoint,
    userDataDir,
    process: child,
    async openTab(url) {
      const response = await fetch(`${debugUrl}/json/new?${url}`, { method: "PUT" });
      if (!response.ok) throw new Error(`PUT /json/new failed: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string; url: string };
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownsDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

export interface DrivenBrowser {
  chrome: ChromiumProcess;
  browser: Browser;
  context: BrowserContext;
  /** Open a tab (through /json/new) and return its Playwright page once loaded. */
  open(url: string): Promise<Page>;
  serviceWorker(): Promise<Worker>;
  close(): Promise<void>;
}

/** Chromium started directly, then driven by Playwright over CDP. */
export async function launchDrivenBrowser(options: LaunchOptions = {}): Promise<DrivenBrowser> {
  const chrome = await launchChromium(options);
  const browser = await chromium.connectOverCDP(chrome.wsEndpoint);
  const context = browser.contexts()[0]!;
  return {
    chrome,
    browser,
    context,
    async open(url) {
      const opened = context.waitForEvent("page", { predicate: (page) => page.url() === url || page.url().startsWith(url), timeout: 15_000 });
      await chrome.openTab(url);
      const page = await opened;
      await page.waitForLoadState("domcontentloaded");
      return page;
    },
    async serviceWorker() {
      const existing = context.serviceWorkers().find((worker) => worker.url().startsWith(EXTENSION_URL));
      return existing ?? context.waitForEvent("serviceworker", { predicate: (worker) => worker.url().startsWith(EXTENSION_URL), timeout: 15_000 });
    },
    async close() {
      await browser.close().catch(() => undefined);
      await chrome.close();
    },
  };
}

/**
 * Point the extension at `serverUrl` and sign in, through its own options page and app page.
 * `timers` overrides run-time settings (e.g. a short keepalive) the options page does not show.
 */
export async function configureAndSignIn(
  driven: DrivenBrowser,
  serverUrl: string,
  username: string,
  timers: { keepaliveMs?: number; backoffBaseMs?: number; profileFreshMs?: number } = {},
): Promise<Page> {
  if (Object.keys(timers).length > 0) {
    const worker = await driven.serviceWorker();
    await worker.evaluate((settings) => chrome.storage.local.set({ settings }), timers);
  }
  const options = await driven.open(OPTIONS_PAGE);
  await options.locator('input[name="serverUrl"]').fill(serverUrl);
  await options.locator('button[type="submit"]').click();
  await options.getByTestId("options-saved").waitFor();
  await options.close();
  const app = await driven.open(APP_PAGE);
  await app.locator('input[name="username"]').fill(username);
  await app.locator('input[name="password"]').fill("demo");
  await app.locator('form[data-testid="sign-in"] button[type="submit"]').click();
  await app.locator('[data-testid="connection-banner"][data-state="open"]').waitFor({ timeout: 15_000 });
  return app;
}
