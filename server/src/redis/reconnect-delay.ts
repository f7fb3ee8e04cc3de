import { backoff } from "../../../shared/protocol/index.js";

/** @default 100 ms base, 2 s cap: the server reconnects to Redis sooner and more often than a client to the server. */
export const REDIS_RECONNECT_BACKOFF = { baseMs: 100, maxMs: 2000 } as const;

/**
 * ioredis `retryStrategy` / `clusterRetryStrategy` of the server's Redis client: the project's
 * one `backoff()` (shared/protocol/backoff.ts; ioredis `retryStrategy` is its model) at the top
 * of its range, so reconnecting goes 200, 400, 800, 1600 ms, then every 2 s, forever. ioredis
 * counts attempts from 1. No jitter: the delays are what they were before this function, and
 * a handful of instances per Redis do not stampede it.
 */
export function redisReconnectDelay(attempt: number): number {
  return backoff(attempt, 1, REDIS_RECONNECT_BACKOFF);
}
