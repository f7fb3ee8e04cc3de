/**
 * `npm run package:extension` — the extension as a zip for the Chrome Web Store: built with
 * `--mode store` (no manifest `key`: the store assigns the id; no localhost hosts unless the
 * server itself is on loopback) into dist/extension-store/ (never over dist/extension, the
 * unpacked development build), version from package.json, zipped with adm-zip.
 *
 *   SWITCHBOARD_SERVER_URL=https://chat.example.com npm run package:extension
 *   → dist/switchboard-extension-<version>.zip   (`-- --out <dir>` puts both elsewhere)
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import AdmZip from "adm-zip";
import { anyPortPattern } from "../extension/build-env.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** `--out <dir>`: where the build folder and the zip go (tests use a temporary one). @default dist */
const { values: args } = parseArgs({ options: { out: { type: "string" } } });
const DEST = path.resolve(args.out ?? path.join(ROOT, "dist"));
const OUT_DIR = path.join(DEST, "extension-store");

function fail(message: string): never {
  process.stderr.write(`package:extension: ${message}\n`);
  process.exit(1);
}

const serverUrl = process.env.SWITCHBOARD_SERVER_URL;
if (!serverUrl) {
  fail(
    "set SWITCHBOARD_SERVER_URL to the server the published extension talks to, e.g.\n  SWITCHBOARD_SERVER_URL=https://chat.example.com npm run package:extension",
  );
}
let server: URL;
try {
  server = new URL(serverUrl);
} catch {
  fail(`SWITCHBOARD_SERVER_URL is not a URL: "${serverUrl}"`);
}
const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(server.hostname);
if (server.protocol !== "https:" && !loopback) {
  process.stderr.write(`package:extension: warning: ${server.origin} is not https; the store extension would send tokens in clear text.\n`);
}

const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
const build = spawnSync(
  process.execPath,
  [path.join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", "extension/vite.config.ts", "--mode", "store", "--outDir", OUT_DIR],
  {
    cwd: ROOT,
    // The content script joins the web app on the server's host only, unless told otherwise.
    env: { ...process.env, NODE_ENV: "production", SWITCHBOARD_WEB_ORIGINS: process.env.SWITCHBOARD_WEB_ORIGINS || anyPortPattern(server.origin) },
    stdio: "inherit",
  },
);
if (build.status !== 0) fail(`the build failed (exit ${build.status ?? build.signal})`);

const manifest = JSON.parse(readFileSync(path.join(OUT_DIR, "manifest.json"), "utf8")) as { key?: string; version: string; host_permissions?: string[] };
if (manifest.key) fail("the store manifest still has a key");
if (manifest.version !== version) fail(`manifest version ${manifest.version} is not package.json's ${version}`);
const localHosts = (manifest.host_permissions ?? []).filter((host) => /\/\/(localhost|127\.0\.0\.1)\//.test(host));
if (localHosts.length > 0 && !loopback) fail(`the store manifest asks for localhost hosts: ${localHosts.join(", ")}`);

const zipPath = path.join(DEST, `switchboard-extension-${version}.zip`);
const zip = new AdmZip();
zip.addLocalFolder(OUT_DIR);
zip.writeZip(zipPath);
process.stdout.write(
  [
    ``,
    `  ${path.relative(process.cwd(), zipPath)} — Switchboard ${version} for ${server.origin}`,
    `  Upload it in the Chrome Web Store developer dashboard. The store assigns the extension id:`,
    `  add chrome-extension://<that id> to the server's ALLOWED_ORIGINS before publishing.`,
    ``,
  ].join("\n") + "\n",
);
