import { EXTENSION_ORIGIN } from "../../shared/protocol/index.js";
import { BudgetKind, type BudgetLimits } from "./realtime/user-budgets.js";
import { WARM_UP_ROUNDS } from "./store/warm-up.js";

/**
 * Configuration from the environment, with defaults. Every variable is documented in README.md
 * ("Configuration"). `loadConfig` throws a `ConfigError` that says what to fix.
 */

export const CACHE_FORMAT_MODES = ["dual", "v2", "v1"] as const;
export type CacheFormatMode = (typeof CACHE_FORMAT_MODES)[number];

export interface Config {
  nodeEnv: string;
  isProduction: boolean;
  port: number;
  host: string;
  /** Unset → `npm start` starts a private redis-server. */
  redisUrl: string | undefined;
  /** `REDIS_CLUSTER=true`: `REDIS_URL` is one node of a Redis Cluster (the others are discovered). */
  redisCluster: boolean;
  /** Unset → embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Rounds of the embedded database's warm-up before the listener opens (`store/warm-up.ts`); 0 skips it. */
  dbWarmUpRounds: number;
  /**
   * `PGLITE_WASM_TIER_UP=true`: let V8 recompile PGlite's hot WebAssembly with its optimizing
   * compiler (TurboFan). Off, it stays on the baseline compiler (Liftoff): about 50 MiB less
   * resident memory, no compile burst when traffic starts, about 15 % less peak throughput.
   */
  pgliteWasmTierUp: boolean;
  jwtSecret: string;
  accessTokenTtlS: number;
  refreshTokenTtlS: number;
  /** A used refresh token presented again within this many seconds gets the same successor (0 = off). */
  refreshReuseIntervalS: number;
  allowedOrigins: string[];
  heartbeatIntervalMs: number;
  heartbeatMaxMissed: number;
  wsMaxPayloadBytes: number;
  httpMaxBodyBytes: number;
  userCacheTtlS: number;
  cacheFormatMode: CacheFormatMode;
  demoPassword: string;
  seedDemoUsers: boolean;
  shutdownTimeoutMs: number;
  /** Sockets closed per second while draining on shutdown; 0 closes them all at once. */
  shutdownDrainRate: number;
  /** A connect within this long after the user's previous socket closed counts as a reconnect. */
  reconnectWindowS: number;
  /** A user replaced more than this many times within `replacementLoopWindowS` is in a reconnect loop. */
  replacementLoopThreshold: number;
  replacementLoopWindowS: number;
  instanceId: string;
  logLevel: string;
  historyMaxLen: number;
  historyMaxAgeS: number;
  resumeMaxEvents: number;
  /** A socket with more unsent bytes than this is closed with `4002 Slow consumer`. */
  wsMaxBufferedBytes: number;
  /** Per-user budgets of sends (socket and REST), reads, resumes and pings. */
  rateLimits: BudgetLimits;
  /** Refused frames a socket may send within the burst window before `4029 Rate limited`. */
  rateLimitMaxRefused: number;
  /** Serve the built web app from this folder at `/` when it exists. */
  webAppDir: string;
  /** Express `trust proxy`: which peers' `X-Forwarded-For` names the client (login limits count per client address). */
  trustProxy: string;
  loginMaxFailuresPerUsernameAndIp: number;
  loginUsernameAndIpWindowS: number;
  loginMaxFailuresPerIp: number;
  loginIpWindowS: number;
  passwordHashConcurrency: number;
  passwordHashQueueMax: number;
  /** Set → `/metrics` requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** Set → metrics are served on their own listener (`metricsHost:metricsPort`), not on the public one. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** Whether the public listener answers `/metrics` (false in production unless a token or a metrics port is set up). */
  metricsOnPublicListener: boolean;
}

/**
 * Defaults of the per-user budgets: a person typing or pasting a few dozen messages, opening
 * conversations, reconnecting a flaky link or pinging every 20 s never meets them; a script does.
 */
export const DEFAULT_RATE_LIMITS: BudgetLimits = {
  send: { perSecond: 10, burst: 50 },
  read: { perSecond: 10, burst: 50 },
  resume: { perSecond: 1, burst: 10 },
  ping: { perSecond: 1, burst: 10 },
};

export const DEFAULT_JWT_SECRET = "switchboard-dev-secret-change-me-0123456789";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer ≥ ${min} (got "${raw}"). Unset it to use the default ${fallback}.`);
  }
  return value;
}

/** `RATE_LIMIT_<KIND>_PER_S` (0 = unlimited) and `RATE_LIMIT_<KIND>_BURST` for every budget kind. */
function rateLimits(env: Env): BudgetLimits {
  const limits = {} as BudgetLimits;
  for (const kind of Object.values(BudgetKind)) {
    const name = `RATE_LIMIT_${kind.toUpperCase()}`;
    const fallback = DEFAULT_RATE_LIMITS[kind];
    limits[kind] = { perSecond: int(env, `${name}_PER_S`, fallback.perSecond), burst: int(env, `${name}_BURST`, fallback.burst) };
  }
  return limits;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? "development";
  const isProduction = nodeEnv === "production";
  const jwtSecret = env.JWT_SECRET ?? DEFAULT_JWT_SECRET;
  if (isProduction && (jwtSecret === DEFAULT_JWT_SECRET || jwtSecret.length < 32)) {
    throw new ConfigError(
      "Refusing to start in production with the default or a short JWT_SECRET. " +
        "Set JWT_SECRET to at least 32 random characters (e.g. `openssl rand -base64 48`).",
    );
  }
  const mode = (env.CACHE_FORMAT_MODE ?? "dual") as CacheFormatMode;
  if (!CACHE_FORMAT_MODES.includes(mode)) {
    throw new ConfigError(`CACHE_FORMAT_MODE must be one of ${CACHE_FORMAT_MODES.join(", ")} (got "${mode}").`);
  }
  const port = int(env, "PORT", 8080);
  const host = env.HOST ?? "127.0.0.1";
  // The web app served by this server, and the Switchboard extension (its id is pinned by the manifest key).
  const defaultOrigins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`, EXTENSION_ORIGIN];
  const allowedOrigins = (env.ALLOWED_ORIGINS ?? defaultOrigins.join(","))
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw new ConfigError("METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 24`); unset it to serve metrics without a token.");
  }
  const metricsPort = env.METRICS_PORT ? int(env, "METRICS_PORT", 0) : undefined;
  return {
    nodeEnv,
    isProduction,
    port,
    host,
    redisUrl: env.REDIS_URL || undefined,
    redisCluster: env.REDIS_CLUSTER === "true" || env.REDIS_CLUSTER === "1",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR ?? ".data",
    dbWarmUpRounds: int(env, "DB_WARM_UP_ROUNDS", WARM_UP_ROUNDS, 0),
    pgliteWasmTierUp: env.PGLITE_WASM_TIER_UP === "true" || env.PGLITE_WASM_TIER_UP === "1",
    jwtSecret,
    accessTokenTtlS: int(env, "ACCESS_TOKEN_TTL_S", 900, 1),
    refreshTokenTtlS: int(env, "REFRESH_TOKEN_TTL_S", 30 * 24 * 3600, 1),
    refreshReuseIntervalS: int(env, "REFRESH_REUSE_INTERVAL_S", 10, 0),
    allowedOrigins,
    heartbeatIntervalMs: int(env, "HEARTBEAT_INTERVAL_MS", 20_000, 10),
    heartbeatMaxMissed: int(env, "HEARTBEAT_MAX_MISSED", 3, 1),
    wsMaxPayloadBytes: int(env, "WS_MAX_PAYLOAD_BYTES", 65_536, 128),
    httpMaxBodyBytes: int(env, "HTTP_MAX_BODY_BYTES", 65_536, 128),
    userCacheTtlS: int(env, "USER_CACHE_TTL_S", 3600, 1),
    cacheFormatMode: mode,
    demoPassword: env.DEMO_PASSWORD ?? "demo",
    seedDemoUsers: !isProduction && env.SEED_DEMO_USERS !== "false",
    shutdownTimeoutMs: int(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 100),
    shutdownDrainRate: int(env, "SHUTDOWN_DRAIN_RATE", 400, 0),
    reconnectWindowS: int(env, "RECONNECT_WINDOW_S", 30, 1),
    replacementLoopThreshold: int(env, "REPLACEMENT_LOOP_THRESHOLD", 10, 1),
    replacementLoopWindowS: int(env, "REPLACEMENT_LOOP_WINDOW_S", 300, 1),
    instanceId: env.INSTANCE_ID ?? `i-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    logLevel: env.LOG_LEVEL ?? (nodeEnv === "test" ? "silent" : "info"),
    historyMaxLen: int(env, "HISTORY_MAX_LEN", 1000, 1),
    historyMaxAgeS: int(env, "HISTORY_MAX_AGE_S", 24 * 3600, 1),
    resumeMaxEvents: int(env, "RESUME_MAX_EVENTS", 500, 1),
    wsMaxBufferedBytes: int(env, "WS_MAX_BUFFERED_BYTES", 1024 * 1024, 1024),
    rateLimits: rateLimits(env),
    rateLimitMaxRefused: int(env, "RATE_LIMIT_MAX_REFUSED", 20, 1),
    webAppDir: env.WEB_APP_DIR ?? "dist/web",
    trustProxy: env.TRUST_PROXY || "loopback",
    loginMaxFailuresPerUsernameAndIp: int(env, "LOGIN_MAX_FAILURES_PER_USER_IP", 5, 1),
    loginUsernameAndIpWindowS: int(env, "LOGIN_USER_IP_WINDOW_S", 900, 1),
    loginMaxFailuresPerIp: int(env, "LOGIN_MAX_FAILURES_PER_IP", 100, 1),
    loginIpWindowS: int(env, "LOGIN_IP_WINDOW_S", 3600, 1),
    passwordHashConcurrency: int(env, "PASSWORD_HASH_CONCURRENCY", 2, 1),
    passwordHashQueueMax: int(env, "PASSWORD_HASH_QUEUE_MAX", 64, 1),
    metricsToken,
    metricsPort,
    metricsHost: env.METRICS_HOST || "127.0.0.1",
    // Development keeps `/metrics` on the main listener, open (tests and operations rely on it);
    // production exposes it only with a token, and never on the public listener when it has its own.
    metricsOnPublicListener: metricsPort === undefined && (!isProduction || metricsToken !== undefined),
  };
}
