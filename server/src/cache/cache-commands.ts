import type { Cluster, Redis } from "ioredis";
import { MAX_INPUT_BYTES } from "./limits.js";

/**
 * Lua scripts for the cache, registered once per client with ioredis `defineCommand` (EVALSHA,
 * reloaded by ioredis after a SCRIPT FLUSH or failover). Each touches one key, so they route
 * normally on Redis Cluster.
 */

/**
 * Compare-and-set keeping the TTL: replace the value only if it is still exactly the one read.
 * A key that expired meanwhile reads as nil ≠ old, so it is never resurrected; a newer write
 * makes the compare fail, so it is never overwritten. `KEEPTTL` (Redis ≥ 6.0) keeps the
 * remaining TTL, and "no TTL" stays no TTL. Returns 1 when written.
 */
const CAS_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0`;

/** Delete only if the value is still the one read (cleanup of unparseable values). */
const CAS_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Read a value only if it is at most ARGV[1] bytes (`STRLEN` first, in the same round trip):
 * returns the value, nil when absent, or the length (an integer) when it is too big to read.
 */
const READ_CAPPED = `
local length = redis.call('STRLEN', KEYS[1])
if length > tonumber(ARGV[1]) then return length end
return redis.call('GET', KEYS[1])`;

export interface CacheCommands {
  switchboardCacheCas(key: string, expected: Buffer | string, next: Buffer | string): Promise<number>;
  switchboardCacheCasDelete(key: string, expected: Buffer | string): Promise<number>;
  switchboardCacheReadBuffer(key: string, maxBytes: number | string): Promise<Buffer | number | null>;
}

/** The pipeline view of the same commands (for `redis.pipeline()`). */
export interface CacheCommandsPipeline {
  switchboardCacheCas(key: string, expected: Buffer | string, next: Buffer | string): this;
  switchboardCacheCasDelete(key: string, expected: Buffer | string): this;
}

type Client = Redis | Cluster;

/** Registers the scripts on `redis` (once; later calls are no-ops) and returns a typed view. */
export function cacheCommands(redis: Client): Client & CacheCommands {
  const client = redis as Client & Partial<CacheCommands>;
  if (typeof client.switchboardCacheCas !== "function") {
    redis.defineCommand("switchboardCacheCas", { numberOfKeys: 1, lua: CAS_SET });
    redis.defineCommand("switchboardCacheCasDelete", { numberOfKeys: 1, lua: CAS_DELETE });
    redis.defineCommand("switchboardCacheRead", { numberOfKeys: 1, lua: READ_CAPPED, readOnly: true });
  }
  return redis as Client & CacheCommands;
}

/** Reads `key` unless it is over the input cap. */
export function readCapped(redis: Client & CacheCommands, key: string, maxBytes = MAX_INPUT_BYTES) {
  return redis.switchboardCacheReadBuffer(key, maxBytes);
}
