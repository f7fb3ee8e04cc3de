import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "./config.js";
import { DEMO_USERS } from "./demo-users.js";

/** The part of `dist/extension.build.json` (written by the extension build) the banner shows. */
interface ExtensionBuild {
  settings: { serverUrl: string };
  version: string;
}

function readExtensionBuild(dir: string): ExtensionBuild | null {
  try {
    return JSON.parse(readFileSync(`${dir}.build.json`, "utf8")) as ExtensionBuild;
  } catch {
    return null;
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Same server from a browser's point of view: loopback names are interchangeable, the port is not. */
function sameServer(a: string, b: string): boolean {
  const [x, y] = [new URL(a), new URL(b)];
  const host = (url: URL) => (LOOPBACK.has(url.hostname) ? "loopback" : url.hostname);
  return x.protocol === y.protocol && x.port === y.port && host(x) === host(y);
}

/**
 * What `npm start` prints once the server is up (after the start-up log lines): where it runs,
 * where the extension build is and how to load it, the demo logins.
 */
/** `metricsUrl`: where `/metrics` is served (a separate listener, the public one, or null when off). */
export function startBanner(options: {
  url: string;
  config: Config;
  localRedisPort: number | undefined;
  metricsUrl?: string | null;
  extensionDir?: string;
}): string {
  const { url, config } = options;
  const extensionDir = path.resolve(options.extensionDir ?? "dist/extension");
  const extension = readExtensionBuild(extensionDir);
  const extensionLines = extension
    ? [
        `  Extension ${extension.version}: ${extensionDir}  (talks to ${extension.settings.serverUrl})`,
        `    Load it: chrome://extensions → Developer mode → Load unpacked → pick that folder.`,
        ...(sameServer(extension.settings.serverUrl, url)
          ? []
          : [`    It was built for another server: set this one in its Options, or rebuild with SWITCHBOARD_SERVER_URL=${url} npm run build:extension.`]),
      ]
    : [`  Extension: not built yet — npm run build:extension, then load ${extensionDir} at chrome://extensions (Developer mode → Load unpacked).`];
  const lines = [
    ``,
    `  Switchboard is running at ${url}`,
    `  Web app: ${url}/   Chat socket: ${url.replace(/^http/, "ws")}/ws/chat/{userId}`,
    `  Metrics: ${options.metricsUrl === undefined ? `${url}/metrics` : (options.metricsUrl ?? "off (set METRICS_PORT or METRICS_TOKEN)")}   Health: ${url}/healthz   Ready: ${url}/readyz`,
    `  Database: ${config.databaseUrl ? "PostgreSQL (DATABASE_URL)" : `embedded PGlite in ${config.dataDir}/pglite`}`,
    `  Redis: ${config.redisUrl ? "REDIS_URL" : `private redis-server on port ${options.localRedisPort}`}`,
    ...extensionLines,
    ...(config.seedDemoUsers
      ? [
          `  Demo logins: ${DEMO_USERS.map((u) => `${u.username}${u.role === "admin" ? " (admin)" : ""}`).join(", ")} — password "${config.demoPassword === "demo" ? "demo" : "$DEMO_PASSWORD"}"`,
        ]
      : []),
    ``,
  ];
  return lines.join("\n") + "\n";
}
