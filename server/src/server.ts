import { existsSync } from "node:fs";
import type { ChatEvent } from "../../shared/protocol/index.js";
import { createServer, type Server as HttpServer } from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Cluster, Redis } from "ioredis";
import { TokenService } from "./auth/tokens.js";
import { UserCache } from "./cache/user-cache.js";
import type { Config } from "./config.js";
import { createApp } from "./http/app.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createRealtime } from "./realtime/create-realtime.js";
import { LocalEventBus } from "./realtime/local-event-bus.js";
import { LocalOwnerRegistry } from "./realtime/local-owner-registry.js";
import { MemoryEventLog } from "./realtime/memory-event-log.js";
import type { EventBus, EventLog, OwnerRegistry, StoredEvent } from "./realtime/ports.js";
import { startLocalRedis, type LocalRedisServer } from "./redis/local-redis-server.js";
import { MessageService } from "./services/message-service.js";
import { ProfileService } from "./services/profile-service.js";
import { openDb, type Db } from "./store/db.js";
import { migrate } from "./store/migrations.js";
import { seedDemoUsers } from "./store/seed.js";
import { Store } from "./store/store.js";
import { ChatSocketServer } from "./ws/chat-socket-server.js";

export interface Realtime {
  owners: OwnerRegistry;
  eventLog: EventLog;
  bus: EventBus;
  /** Append + deliver in one step when the backend can (Redis: one script); else `eventLog.append` then `bus.publish`. */
  publish?(userId: number, event: ChatEvent): Promise<StoredEvent>;
  /** Redis-backed realtime: false while it serves from its in-process fallbacks (`/readyz` then says not ready). */
  isReady?(): boolean;
  close(): Promise<void>;
}

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
  realtime?: (deps: { redis: Redis | Cluster; config: Config; logger: Logger; metrics: Metrics }) => Promise<Realtime> | Realtime;
}

/** In-process realtime: correct for one instance only. */
export function localRealtime({ config }: { config: Config }): Realtime {
  const owners = new LocalOwnerRegistry();
  const eventLog = new MemoryEventLog({ maxLen: config.historyMaxLen, maxAgeMs: config.historyMaxAgeS * 1000 });
  const bus = new LocalEventBus();
  return { owners, eventLog, bus, close: async () => Promise.all([owners.close(), bus.close()]).then(() => {}) };
}

/** Redis-backed realtime (DESIGN.md §5): owner records, Streams history, owner-routed delivery. */
export function redisRealtime({ redis, config, logger, metrics }: { redis: Redis | Cluster; config: Config; logger: Logger; metrics: Metrics }): Promise<Realtime> {
  return createRealtime({ redis, instanceId: config.instanceId, config, logger, metrics });
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
    const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onQuery: () => metrics.dbQueries.inc() });
    cleanups.push(() => db.close());
    const applied = await migrate(db);
    if (applied.length) logger.info({ applied }, "database migrated");
    const store = new Store(db);
    if (config.seedDemoUsers) await seedDemoUsers(store, config.demoPassword);

    // Fail fast while Redis is down (callers fall back to the database); reconnect forever, gently.
    const reconnectDelay = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000);
    const redis: Redis | Cluster = config.redisCluster
      ? new Cluster([redisUrl], {
          enableOfflineQueue: false,
          lazyConnect: true,
          clusterRetryStrategy: reconnectDelay,
          redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 },
        })
      : new Redis(redisUrl, {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectTimeout: 2000,
          commandTimeout: 2000,
          retryStrategy: reconnectDelay,
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

    const realtime = await (options.realtime ?? redisRealtime)({ redis, config, logger, metrics });
    cleanups.push(() => realtime.close());
    const cache = new UserCache({ redis, ttlSeconds: config.userCacheTtlS, mode: config.cacheFormatMode, metrics, logger });
    const tokens = new TokenService(config.jwtSecret, store, { accessTtlS: config.accessTokenTtlS, refreshTtlS: config.refreshTokenTtlS, reuseIntervalS: config.refreshReuseIntervalS });

    let sockets: ChatSocketServer;
    const publish = (userId: number, event: Parameters<ChatSocketServer["publish"]>[1]) => sockets.publish(userId, event);
    const profiles = new ProfileService(store, cache, publish, logger);
    const messages = new MessageService(store, publish, logger);
    sockets = new ChatSocketServer({
      tokens,
      owners: realtime.owners,
      eventLog: realtime.eventLog,
      bus: realtime.bus,
      ...(realtime.publish ? { publish: realtime.publish.bind(realtime) } : {}),
      handlers: { send: (u, f) => messages.handleSendFrame(u, f), read: (u, f) => messages.handleReadFrame(u, f) },
      logger,
      metrics,
      instanceId: config.instanceId,
      allowedOrigins: config.allowedOrigins,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      heartbeatMaxMissed: config.heartbeatMaxMissed,
      maxPayloadBytes: config.wsMaxPayloadBytes,
      resumeMaxEvents: config.resumeMaxEvents,
    });

    const app = createApp({
      store,
      tokens,
      profiles,
      messages,
      metrics,
      logger,
      allowedOrigins: config.allowedOrigins,
      refreshTokenTtlS: config.refreshTokenTtlS,
      maxBodyBytes: config.httpMaxBodyBytes,
      webAppDir: config.webAppDir,
      readiness: async () => ({
        redis: redis.status === "ready" && (realtime.isReady?.() ?? true) && (await redis.ping().then(() => true, () => false)),
        database: await db.query("SELECT 1").then(() => true, () => false),
      }),
    });

    const httpServer = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, app);
    httpServer.keepAliveTimeout = 5000;
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
        httpServer.closeIdleConnections();
        await sockets.shutdown(Math.max(500, config.shutdownTimeoutMs - 2000));
        await Promise.race([httpClosed, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - 1000)).unref())]);
        httpServer.closeAllConnections();
        for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => logger.warn({ err: error }, "cleanup failed"));
        logger.info("shut down");
      })());

    return { config, httpServer, url, port, sockets, redis, db, store, metrics, logger, cache, localRedis, shutdown };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    throw error;
  }
}
