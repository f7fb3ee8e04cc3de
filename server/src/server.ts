import { existsSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Cluster, Redis } from "ioredis";
import { PasswordHashing } from "./auth/password-hashing.js";
import { SessionRevocations } from "./auth/session-revocations.js";
import { TokenService } from "./auth/tokens.js";
import { UserCache } from "./cache/user-cache.js";
import type { Config } from "./config.js";
import { createApp } from "./http/app.js";
import { trackIdleConnections } from "./http/idle-connections.js";
import { LoginLimiter } from "./http/login-limiter.js";
import { startMetricsListener, type MetricsListener } from "./http/metrics-access.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createLocalRealtime } from "./realtime/local-realtime.js";
import type { Realtime } from "./realtime/realtime.js";
import { createRedisRealtime } from "./realtime/redis-realtime.js";
import { UserBudgets } from "./realtime/user-budgets.js";
import { startLocalRedis, type LocalRedisServer } from "./redis/local-redis-server.js";
import { redisReconnectDelay } from "./redis/reconnect-delay.js";
import { MessageService } from "./services/message-service.js";
import { ProfileEtags } from "./services/profile-etags.js";
import { ProfileService } from "./services/profile-service.js";
import { openDb, type Db } from "./store/db.js";
import { migrate } from "./store/migrations.js";
import { seedDemoUsers } from "./demo-users.js";
import { Store } from "./store/store.js";
import { warmUpDatabase } from "./store/warm-up.js";
import { ChatSocketServer } from "./ws/chat-socket-server.js";

export interface SwitchboardServer {
  readonly config: Config;
  readonly httpServer: HttpServer;
  readonly url: string;
  readonly port: number;
  readonly sockets: ChatSocketServer;
  readonly redis: Redis | Cluster;
  readonly db: Db;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly cache: UserCache;
  readonly localRedis: LocalRedisServer | null;
  /** The separate metrics listener when `METRICS_PORT` is set. */
  readonly metricsListener: MetricsListener | null;
  /** Graceful: stop accepting, 1012 to every socket, drain HTTP, close Redis and the database. */
  shutdown(): Promise<void>;
}

export interface CreateServerOptions {
  logger?: Logger;
  /**
   * Build the owner registry / event log / bus. Default: Redis-backed (`createRealtime`), so
   * instances sharing Redis agree, with in-process fallbacks while Redis is down.
   * `localRealtime` keeps everything in this process (one instance, no Redis needed).
   */
  realtime?: (deps: {
    redis: Redis | Cluster;
    config: Config;
    logger: Logger;
    metrics: Metrics;
    sessions: SessionRevocations;
    profileEtags: ProfileEtags;
  }) => Promise<Realtime> | Realtime;
  /**
   * The embedded database (PGlite's worker thread) stopped without being closed: nothing can be
   * stored any more in this process. Logged as fatal here; `main.ts` shuts down and exits 1 so the
   * supervisor restarts it, as after a lost database.
   */
  onDatabaseLost?: (error: Error) => void;
}

/** In-process realtime: correct for one instance only (session revocations stay in this process too). */
export function localRealtime({ config }: { config: Config }): Realtime {
  return createLocalRealtime(config);
}

/** Redis-backed realtime: owner records, Streams history, owner-routed delivery (docs/architecture.md#where-state-lives). */
export function redisRealtime({
  redis,
  config,
  logger,
  metrics,
  sessions,
  profileEtags,
}: {
  redis: Redis | Cluster;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  sessions?: SessionRevocations;
  profileEtags?: ProfileEtags;
}): Promise<Realtime> {
  return createRedisRealtime({
    redis,
    instanceId: config.instanceId,
    config,
    logger,
    metrics,
    ...(sessions ? { sessions } : {}),
    ...(profileEtags ? { profileEtags } : {}),
  });
}

export async function createSwitchboardServer(config: Config, options: CreateServerOptions = {}): Promise<SwitchboardServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    let localRedis: LocalRedisServer | null = null;
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      localRedis = await startLocalRedis();
      cleanups.push(() => localRedis!.stop());
      redisUrl = localRedis.url;
      logger.info({ port: localRedis.port }, "REDIS_URL is unset: started a private redis-server");
    }

    if (!config.databaseUrl && !config.dataDir.startsWith("memory://") && !existsSync(path.join(config.dataDir, "pglite", "PG_VERSION"))) {
      logger.info({ dataDir: config.dataDir }, "creating the embedded PGlite database (first start only; this takes several seconds)");
    }
    const db = await openDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      pgliteWasmTierUp: config.pgliteWasmTierUp,
      onQuery: () => metrics.dbQueries.inc(),
      onLost: (error) => {
        logger.fatal({ err: error }, "the embedded database stopped: nothing can be stored until the server restarts");
        options.onDatabaseLost?.(error);
      },
    });
    cleanups.push(() => db.close());
    const applied = await migrate(db);
    if (applied.length) logger.info({ applied }, "database migrated");
    const store = new Store(db);
    if (config.seedDemoUsers) await seedDemoUsers(store, config.demoPassword);
    // Before the listener (and so before /readyz answers): the first messages find a warm database.
    // PGlite only: see warm-up.ts for why Postgres is left alone.
    if (db.engine === "pglite" && config.dbWarmUpRounds > 0) await warmUpDatabase(db, logger, config.dbWarmUpRounds);

    // Fail fast while Redis is down (callers fall back to the database); reconnect forever, gently.
    const redis: Redis | Cluster = config.redisCluster
      ? new Cluster([redisUrl], {
          enableOfflineQueue: false,
          lazyConnect: true,
          clusterRetryStrategy: redisReconnectDelay,
          redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 },
        })
      : new Redis(redisUrl, {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectTimeout: 2000,
          commandTimeout: 2000,
          retryStrategy: redisReconnectDelay,
          lazyConnect: true,
        });
    redis.on("error", (error) => logger.debug({ err: error.message }, "redis error"));
    redis.on("ready", () => metrics.redisUp.set(1));
    redis.on("end", () => metrics.redisUp.set(0));
    redis.on("close", () => metrics.redisUp.set(0));
    cleanups.push(async () => redis.disconnect());
    try {
      await redis.connect();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "Redis is not reachable at start; running degraded until it is");
    }

    // Ended sessions: checked in process on every request and upgrade, shared through Redis.
    const sessions = new SessionRevocations({ accessTtlMs: config.accessTokenTtlS * 1000 });
    cleanups.push(async () => sessions.close());
    // The profile's ETag per user, for the conditional refresh; kept current across instances by the realtime layer.
    const profileEtags = new ProfileEtags();
    const realtime = await (options.realtime ?? redisRealtime)({ redis, config, logger, metrics, sessions, profileEtags });
    cleanups.push(() => realtime.close());
    const cache = new UserCache({ redis, ttlSeconds: config.userCacheTtlS, mode: config.cacheFormatMode, metrics, logger });
    cleanups.push(async () => cache.close());
    const tokens = new TokenService(
      config.jwtSecret,
      store,
      { accessTtlS: config.accessTokenTtlS, refreshTtlS: config.refreshTokenTtlS, reuseIntervalS: config.refreshReuseIntervalS },
      sessions,
    );

    // One set of per-user budgets for the socket's frames and the REST send.
    const budgets = new UserBudgets(config.rateLimits);
    let sockets: ChatSocketServer;
    const publish = (userId: number, event: Parameters<ChatSocketServer["publish"]>[1]) => sockets.publish(userId, event);
    const profiles = new ProfileService(store, cache, publish, logger, profileEtags);
    const messages = new MessageService(store, publish, logger);
    sockets = new ChatSocketServer({
      tokens,
      realtime,
      handlers: { send: (u, f) => messages.handleSendFrame(u, f), read: (u, f) => messages.handleReadFrame(u, f) },
      logger,
      metrics,
      instanceId: config.instanceId,
      allowedOrigins: config.allowedOrigins,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      heartbeatMaxMissed: config.heartbeatMaxMissed,
      maxPayloadBytes: config.wsMaxPayloadBytes,
      resumeMaxEvents: config.resumeMaxEvents,
      budgets,
      maxRefusedFrames: config.rateLimitMaxRefused,
      maxBufferedBytes: config.wsMaxBufferedBytes,
      reconnectWindowMs: config.reconnectWindowS * 1000,
      replacementLoop: { threshold: config.replacementLoopThreshold, windowMs: config.replacementLoopWindowS * 1000 },
      drainRate: config.shutdownDrainRate,
    });

    // A session ended here or on another instance: close its sockets on this one.
    sessions.onRevoked((sessionIds) => sockets.endSessions(sessionIds));

    const app = createApp({
      store,
      tokens,
      profiles,
      messages,
      metrics,
      logger,
      budgets,
      allowedOrigins: config.allowedOrigins,
      refreshTokenTtlS: config.refreshTokenTtlS,
      maxBodyBytes: config.httpMaxBodyBytes,
      webAppDir: config.webAppDir,
      trustProxy: config.trustProxy,
      loginLimiter: new LoginLimiter({
        redis,
        limits: {
          maxFailuresPerUsernameAndIp: config.loginMaxFailuresPerUsernameAndIp,
          usernameAndIpWindowS: config.loginUsernameAndIpWindowS,
          maxFailuresPerIp: config.loginMaxFailuresPerIp,
          ipWindowS: config.loginIpWindowS,
        },
      }),
      passwordHashing: new PasswordHashing({ concurrency: config.passwordHashConcurrency, maxQueued: config.passwordHashQueueMax, metrics }),
      metricsAccess: { token: config.metricsToken, onPublicListener: config.metricsOnPublicListener },
      readiness: async () => ({
        redis:
          redis.status === "ready" &&
          realtime.isReady() &&
          (await redis.ping().then(
            () => true,
            () => false,
          )),
        database: await db.query("SELECT 1").then(
          () => true,
          () => false,
        ),
      }),
    });

    // Before the public listener, so a metrics port that is taken fails the start with nothing left listening.
    let metricsListener: MetricsListener | null = null;
    if (config.metricsPort !== undefined) {
      metricsListener = await startMetricsListener({ host: config.metricsHost, port: config.metricsPort, token: config.metricsToken, metrics, logger });
      cleanups.push(() => metricsListener!.close());
    } else if (!config.metricsOnPublicListener) {
      logger.info(
        "metrics are not served: in production /metrics answers 404 on the public listener. Set METRICS_PORT (own listener, default host 127.0.0.1) or METRICS_TOKEN (Authorization: Bearer <token>) to enable them",
      );
    }
    const httpServer = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, app);
    httpServer.keepAliveTimeout = 5000;
    const idleConnections = trackIdleConnections(httpServer);
    sockets.attach(httpServer);
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      // A deep accept backlog: after an instance dies, thousands of clients reconnect at once
      // (Node's default 511 drops SYNs under such a storm — measured in bench:cluster).
      httpServer.listen({ port: config.port, host: config.host, backlog: 4096 }, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
    const port = (httpServer.address() as AddressInfo).port;
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;

    let shuttingDown: Promise<void> | null = null;
    const shutdown = () =>
      (shuttingDown ??= (async () => {
        logger.info("shutting down: closing sockets with 1012 Service restart");
        const deadline = Date.now() + config.shutdownTimeoutMs;
        const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        // Idle HTTP connections close at once (in-flight requests finish first); chat sockets drain.
        idleConnections.closeIdle();
        await sockets.shutdown(Math.max(500, config.shutdownTimeoutMs - 2000));
        await Promise.race([httpClosed, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - 1000)).unref())]);
        httpServer.closeAllConnections();
        for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => logger.warn({ err: error }, "cleanup failed"));
        logger.info("shut down");
      })());

    return { config, httpServer, url, port, sockets, redis, db, store, metrics, logger, cache, localRedis, metricsListener, shutdown };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    throw error;
  }
}
