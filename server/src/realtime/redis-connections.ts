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
 *
 * Both connect at once (`lazyConnect: false`) whatever the app's client does: the health monitor
 * waits for `ready` rather than sending a first command to trigger the connection.
 */
export function duplicateForCommands(redis: RedisClient): RedisClient {
  // No ioredis commandTimeout: RedisHealth times calls itself, in a way that tolerates event-loop lag.
  const fastFail: Partial<RedisOptions> = { autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 1, commandTimeout: undefined };
  // No ioredis auto-pipelining here: with autoResendUnfulfilledCommands off, commands in flight
  // when the connection drops are dropped unanswered after a quick reconnect; an auto-pipeline
  // among them never completes, and every later command queues behind it forever (Redis would
  // stay "down" for this instance — seen in cluster-redis-outage). RedisHealth times out a single
  // lost command; it cannot unstick a pipeline.
  if (redis instanceof Cluster) {
    return redis.duplicate([], { enableOfflineQueue: false, lazyConnect: false, redisOptions: fastFail });
  }
  return (redis as Redis).duplicate({ ...fastFail, enableOfflineQueue: false, lazyConnect: false });
}

/** Queues its SUBSCRIBE until connected, and re-subscribes by itself after a reconnect. */
export function duplicateForSubscribe(redis: RedisClient): RedisClient {
  if (redis instanceof Cluster) return redis.duplicate([], { enableOfflineQueue: true, lazyConnect: false });
  return (redis as Redis).duplicate({ enableOfflineQueue: true, lazyConnect: false, autoResubscribe: true });
}

/**
 * QUIT when connected (pending replies arrive first), else drop the connection: a QUIT queued
 * while Redis is away would wait for a Redis that may never come back, and hold up shutdown.
 */
export async function closeClient(client: RedisClient, graceMs = 1000): Promise<void> {
  if (client.status !== "ready") {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([
    client.quit().then(
      () => undefined,
      () => undefined,
    ),
    gaveUp,
  ]);
  clearTimeout(timer);
  client.disconnect();
}
