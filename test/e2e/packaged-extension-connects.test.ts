import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import AdmZip from "adm-zip";
import { chromium, type Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { EXTENSION_ID } from "../../shared/protocol/index.js";
import { freePort } from "../../server/src/redis/local-redis-server.js";
import { launchChromium, REPO_ROOT, type ChromiumProcess } from "../helpers/chromium.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { metric, waitFor } from "./support/metrics.js";

// The zip `npm run package:extension` makes for the Chrome Web Store, unzipped and loaded as is.
describe("the packaged extension", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it("is a store build (version from package.json, no key, only its server's host) that loads in Chromium and connects", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const serverUrl = `http://127.0.0.1:${port}`;
    const out = await mkdtemp(path.join(os.tmpdir(), "switchboard-package-"));
    cleanups.push(() => rm(out, { recursive: true, force: true }));
    const packaged = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/package-extension.ts", "--out", out], {
      cwd: REPO_ROOT,
      env: { ...process.env, SWITCHBOARD_SERVER_URL: serverUrl },
      encoding: "utf8",
    });
    expect(packaged.status, `${packaged.stdout}${packaged.stderr}`).toBe(0);

    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const unpacked = path.join(out, "unzipped");
    new AdmZip(path.join(out, `switchboard-extension-${version}.zip`)).extractAllTo(unpacked);
    const manifest = JSON.parse(readFileSync(path.join(unpacked, "manifest.json"), "utf8")) as Record<string, unknown> & {
      host_permissions: string[];
      icons: Record<string, string>;
    };
    expect(manifest.version).toBe(version);
    expect(manifest.key).toBeUndefined();
    expect(manifest.host_permissions).toEqual(["http://127.0.0.1/*"]); // its server only (here on loopback)
    for (const icon of Object.values(manifest.icons)) expect(readFileSync(path.join(unpacked, icon)).subarray(1, 4).toString()).toBe("PNG");

    const chrome: ChromiumProcess = await launchChromium({ extensionDir: unpacked });
    cleanups.push(() => chrome.close());
    const browser: Browser = await chromium.connectOverCDP(chrome.wsEndpoint);
    cleanups.push(() => browser.close());
    const context = browser.contexts()[0]!;
    const worker =
      context.serviceWorkers().find((w) => w.url().startsWith("chrome-extension://")) ?? (await context.waitForEvent("serviceworker", { timeout: 15_000 }));
    // Without a key, Chromium gives the unpacked folder its own id (the store would assign one).
    const extensionId = new URL(worker.url()).hostname;
    expect(extensionId).not.toBe(EXTENSION_ID);

    const server: ServerProcess = await startServerProcess({ port, env: { ALLOWED_ORIGINS: `chrome-extension://${extensionId},${serverUrl}` } });
    cleanups.push(() => server.stop());
    const app = await context.newPage();
    await app.goto(`chrome-extension://${extensionId}/src/pages/app.html`);
    await app.locator('input[name="username"]').fill("alice");
    await app.locator('input[name="password"]').fill("demo");
    await app.locator('form[data-testid="sign-in"] button[type="submit"]').click();
    await app.locator('[data-testid="connection-banner"][data-state="open"]').waitFor({ timeout: 20_000 });
    await waitFor(async () => (await metric(server, "switchboard_ws_connections")) === 1, 10_000, "one socket on the server");
  });
});
