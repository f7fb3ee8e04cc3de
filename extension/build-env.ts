/**
 * Build-time configuration from SWITCHBOARD_* environment variables, read by both vite configs.
 * The options page can override the server URL at run time.
 */
export interface BuildEnv {
  /** @default "http://localhost:8080" */
  serverUrl: string;
  /**
   * Extra match patterns of web-app pages the content script joins, besides the configured
   * server's exact origin (which it always joins). @default none
   */
  webOrigins: string[];
  /** @default 20000 */
  keepaliveMs: number;
  /** @default 300000 */
  profileFreshMs: number;
  /** @default 1000 */
  backoffBaseMs: number;
  /** Messages the outbox holds at once before it refuses a new one. @default 500 */
  outboxMaxMessages: number;
  /** Age after which an unsent message is marked failed. @default 604800000 (7 days) */
  outboxMaxAgeMs: number;
}

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of milliseconds, got "${raw}".`);
  return value;
}

/** `http://host:8080` → `http://host/*`: a match pattern without a port matches every port. */
export function anyPortPattern(origin: string): string {
  const url = new URL(origin);
  return `${url.protocol}//${url.hostname}/*`;
}

export function readBuildEnv(): BuildEnv {
  const serverUrl = new URL(process.env.SWITCHBOARD_SERVER_URL || "http://localhost:8080").origin;
  const webOrigins = (process.env.SWITCHBOARD_WEB_ORIGINS || "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    serverUrl,
    webOrigins,
    keepaliveMs: numberFrom("SWITCHBOARD_KEEPALIVE_MS", 20_000),
    profileFreshMs: numberFrom("SWITCHBOARD_PROFILE_FRESH_MS", 300_000),
    backoffBaseMs: numberFrom("SWITCHBOARD_BACKOFF_BASE_MS", 1000),
    outboxMaxMessages: numberFrom("SWITCHBOARD_OUTBOX_MAX_MESSAGES", 500),
    outboxMaxAgeMs: numberFrom("SWITCHBOARD_OUTBOX_MAX_AGE_MS", 7 * 24 * 60 * 60 * 1000),
  };
}
