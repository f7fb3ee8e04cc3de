import type { SessionRevocations } from "../auth/session-revocations.js";
import type { Config } from "../config.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import { LocalEventBus } from "./local-event-bus.js";
import { LocalOwnerRegistry } from "./local-owner-registry.js";
import { MemoryEventLog } from "./memory-event-log.js";
import { RedisEventBus } from "./redis-event-bus.js";
import { RedisEventLog } from "./redis-event-log.js";
import { closeClient, duplicateForCommands } from "./redis-connections.js";
import { RedisHealth } from "./redis-health.js";
import { RedisInstanceChannel } from "./redis-instance-channel.js";
import type { RedisClient } from "./redis-keys.js";
import type { Realtime } from "./realtime.js";
import { RedisOwnerRegistry } from "./redis-owner-registry.js";
import { RedisSessionRevocations } from "./redis-session-revocations.js";
import type { ProfileEtags } from "../services/profile-etags.js";
import { RedisProfileChanges } from "../services/redis-profile-changes.js";
import { ResilientOwnerRegistry } from "./resilient-owner-registry.js";
import { ResilientEventBus } from "./resilient-event-bus.js";
import { ResilientEventLog, redeliverLatest } from "./resilient-event-log.js";

export interface CreateRedisRealtimeOptions {
  /** The app's client (standalone or Cluster); the realtime layer duplicates it and never closes it. */
  redis: RedisClient;
  instanceId: string;
  config: Pick<Config, "historyMaxLen" | "historyMaxAgeS" | "resumeMaxEvents">;
  logger?: Logger;
  metrics?: Pick<Metrics, "redisUp">;
  /** Ended sessions of this instance, to share with the others (loaded at start, broadcast on revoke). */
  sessions?: SessionRevocations;
  /** Profile ETags kept in this process, forgotten on every instance when a profile changes. */
  profileEtags?: ProfileEtags;
  /** How long `createRealtime` waits for Redis before starting degraded. @default 5000 */
  startTimeoutMs?: number;
  /** @default 1000 */
  probeIntervalMs?: number;
  /** @default 5000 */
  callTimeoutMs?: number;
}

export interface RedisRealtime extends Realtime {
  owners: ResilientOwnerRegistry;
  eventLog: ResilientEventLog;
  bus: ResilientEventBus;
  /** `isUp()` is false while the instance runs degraded. */
  health: RedisHealth;
}

/**
 * The owner registry, event log and event bus of a server instance that shares Redis (or a Redis
 * Cluster) with other instances, each falling back to its in-process version while Redis is
 * unreachable. Waits up to `startTimeoutMs` for Redis, then starts degraded if it must.
 */
export async function createRedisRealtime(options: CreateRedisRealtimeOptions): Promise<RedisRealtime> {
  const { redis, instanceId, config, logger, metrics } = options;
  const commands = duplicateForCommands(redis);
  commands.on("error", (error: Error) => logger?.debug({ err: error.message }, "redis (realtime commands) error"));
  const channel = new RedisInstanceChannel(redis, instanceId, logger);
  const health = new RedisHealth({
    clients: [commands, channel.subscriber],
    probe: async () => {
      await commands.ping();
      await channel.start(); // (re)confirm the instance channel before routing to this instance
    },
    ...(logger ? { logger } : {}),
    ...(metrics ? { metrics } : {}),
    ...(options.probeIntervalMs !== undefined ? { probeIntervalMs: options.probeIntervalMs } : {}),
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
  });
  const history = { maxLen: config.historyMaxLen, maxAgeMs: config.historyMaxAgeS * 1000 };
  const owners = new ResilientOwnerRegistry(new RedisOwnerRegistry(commands, channel), new LocalOwnerRegistry(), health, instanceId, logger);
  const redisLog = new RedisEventLog(commands, { ...history, maxReplay: config.resumeMaxEvents, instanceId });
  const eventLog = new ResilientEventLog(redisLog, () => new MemoryEventLog(history), health, logger, { oneAtATimePerUser: commands.isCluster });
  const localBus = new LocalEventBus();
  const bus = new ResilientEventBus(new RedisEventBus(commands, channel), localBus, health);
  // Recovery hooks run in registration order: owners, histories (both registered above), then this.
  health.onRecover(() => redeliverLatest(owners.users(), redisLog, localBus, health));
  const sessions = options.sessions ? new RedisSessionRevocations(commands, channel.subscriber, health, options.sessions, logger) : null;
  const profileChanges = options.profileEtags ? new RedisProfileChanges(commands, channel.subscriber, health, options.profileEtags, logger) : null;

  if (!health.isUp()) {
    const up = await waitForUp(health, options.startTimeoutMs ?? 5000);
    if (!up) logger?.warn({ instanceId }, "redis not reachable at start: running degraded until it answers");
  }

  return {
    owners,
    eventLog,
    bus,
    // Append to the user's history and route to their socket's instance in one Redis round trip
    // (delivered here at once when that instance is this one).
    publish: (userId, event) => eventLog.publish(userId, event, localBus),
    health,
    isReady: () => health.isUp(),
    async close() {
      health.close();
      sessions?.close();
      profileChanges?.close();
      eventLog.close();
      await owners.close();
      await bus.close();
      await channel.close();
      await closeClient(commands);
    },
  };
}

function waitForUp(health: RedisHealth, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(health.isUp());
    }, timeoutMs);
    const stop = health.onChange((state) => {
      if (state !== "up") return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}
