import { Cluster, type Redis, type RedisOptions } from "ioredis";
import type { RedisClient } from "./redis-keys.js";

/**
 * The realtime modules use their own connections, duplicated from the app's client (same
 * address, auth, cluster nodes):
 *
 * - a command connection that fails fast instead of queueing while Redis is away
 *   (`enableOfflineQueue: false`) and never re-sends a command after a reconnect
 *   (`autoResendUnfulfilledCommands: false`). While Redis is down the realtime layer serves
 *   from its in-process fallbacks, so a claim or append queued for later would only run
 *   against a Redis that has moved on;
 * - a subscriber connection for the instance channel (subscribe mode allows no other command).
 */
export function duplicateForCommands(redis: RedisClient): RedisClient {
  const fastFail: Partial<RedisOptions> = { autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 1 };
  if (redis instanceof Cluster) {
    return redis.duplicate([], { enableOfflineQueue: false, redisOptions: fastFail });
  }
  return (redis as Redis).duplicate({ ...fastFail, enableOfflineQueue: false });
}

export function duplicateForSubscribe(redis: RedisClient): RedisClient {
  return redis instanceof Cluster ? redis.duplicate() : (redis as Redis).duplicate();
}
