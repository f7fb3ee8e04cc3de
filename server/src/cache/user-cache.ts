import type { Cluster, Redis } from "ioredis";
import { CACHE_FORMAT_MODES, type CacheFormatMode } from "../config.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import { cacheCommands, readCapped, type CacheCommands } from "./cache-commands.js";
import { decodeValue } from "./decode-value.js";
import type { ValueFormat } from "./detect-format.js";
import { encodeEnvelope, encodeV1Json } from "./envelope.js";
import { DEFAULT_KEY_PREFIX, MAX_INPUT_BYTES } from "./limits.js";
import { valueLogFields } from "./log-fields.js";
import type { UserRecord } from "./user-record.js";
import { withTimeout } from "./with-timeout.js";

export type { UserRecord };

export interface UserCacheOptions {
  redis: Redis | Cluster;
  /** TTL of every write, in seconds (`USER_CACHE_TTL_S`). */
  ttlSeconds: number;
  /** `dual` | `v2` | `v1` (`CACHE_FORMAT_MODE`); also settable later with `setMode()`. */
  mode: CacheFormatMode;
  metrics?: Pick<Metrics, "cacheReads" | "cacheMigrations">;
  logger?: Logger;
  /** @default "user:" */
  keyPrefix?: string;
  /** A Redis call slower than this counts as a miss (the caller falls back to the database). @default 500 */
  commandTimeoutMs?: number;
}

/** `format` label values: the detected format, or `none` (absent / not read) and `oversize`. */
type ReadFormat = ValueFormat | "none" | "oversize";
type ReadResult = "hit" | "miss" | "error";

/**
 * The online `user:{id}` cache (docs/cache.md#the-online-read-path). Reads every legacy format
 * except pickle, rewrites legacy values as v2 in `dual` mode with a TTL-keeping compare-and-set,
 * writes v2 (v1 JSON in rollback mode `v1`). No method throws: a Redis failure or a bad value is a miss plus a metric,
 * and the caller loads from the database.
 */
export class UserCache {
  readonly #redis: (Redis | Cluster) & CacheCommands;
  readonly #ttlSeconds: number;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #metrics: UserCacheOptions["metrics"];
  readonly #logger: Logger | undefined;
  #mode: CacheFormatMode;

  constructor(options: UserCacheOptions) {
    this.#redis = cacheCommands(options.redis);
    this.#ttlSeconds = options.ttlSeconds;
    this.#prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#timeoutMs = options.commandTimeoutMs ?? 500;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#mode = options.mode;
    this.setMode(options.mode);
  }

  get mode(): CacheFormatMode {
    return this.#mode;
  }

  /** Switches the read/write format at runtime (a config change, not a deploy). */
  setMode(mode: CacheFormatMode): void {
    if (!CACHE_FORMAT_MODES.includes(mode)) {
      throw new Error(`Unknown cache format mode "${mode}"; use one of ${CACHE_FORMAT_MODES.join(", ")}.`);
    }
    if (mode !== this.#mode) this.#logger?.info({ from: this.#mode, to: mode }, "cache format mode changed");
    this.#mode = mode;
  }

  key(userId: number): string {
    return `${this.#prefix}${userId}`;
  }

  /** The cached user, or null (a miss) — never throws. */
  async get(userId: number): Promise<UserRecord | null> {
    const key = this.key(userId);
    if (this.#redis.status !== "ready") return this.#count("none", "error", null);
    let raw: Buffer | number | null;
    try {
      raw = await withTimeout(readCapped(this.#redis, key, MAX_INPUT_BYTES), this.#timeoutMs);
    } catch (error) {
      this.#logger?.warn({ key, err: (error as Error).message }, "cache read failed; falling back to the database");
      return this.#count("none", "error", null);
    }
    if (raw === null) return this.#count("none", "miss", null);
    if (typeof raw === "number") {
      this.#logger?.warn({ key, bytes: raw, maxBytes: MAX_INPUT_BYTES }, "cache value over the input cap; not read");
      return this.#count("oversize", "miss", null);
    }
    const mode = this.#mode; // one decision per read, even if the mode changes meanwhile
    const outcome = await decodeValue(raw, { expectedId: userId }); // a pickle is "not-decoded": this path has no pickle decoder
    switch (outcome.kind) {
      case "data": {
        if (outcome.format === "v2") return this.#count("v2", "hit", outcome.data);
        if (mode === "v2") return this.#count(outcome.format, "miss", null);
        if (mode === "dual") await this.#rewrite(key, raw, outcome.data, outcome.format);
        return this.#count(outcome.format, "hit", outcome.data);
      }
      case "not-decoded":
      case "rejected":
        return this.#count(outcome.format, "miss", null); // pickle: never parsed online
      case "invalid":
        this.#logger?.warn(
          { key, format: outcome.format, reason: outcome.reason, ...valueLogFields(raw) },
          "unusable cache value; falling back to the database",
        );
        return this.#count(outcome.format, outcome.format === "unknown" ? "miss" : "error", null);
    }
  }

  /** Writes `data` (v2 envelope, or v1 JSON in mode `v1`) with the configured TTL — never throws. */
  async set(userId: number, data: UserRecord): Promise<void> {
    const key = this.key(userId);
    try {
      if (data.id !== userId) throw new Error(`record id ${String(data.id)} does not match user ${userId}`);
      const text = this.#mode === "v1" ? encodeV1Json(data) : encodeEnvelope(data);
      if (this.#redis.status !== "ready") return;
      await withTimeout(this.#redis.set(key, text, "EX", this.#ttlSeconds), this.#timeoutMs);
    } catch (error) {
      this.#logger?.warn({ key, err: (error as Error).message }, "cache write skipped");
    }
  }

  /** Deletes the cached user — never throws. */
  async invalidate(userId: number): Promise<void> {
    const key = this.key(userId);
    try {
      if (this.#redis.status !== "ready") return;
      await withTimeout(this.#redis.del(key), this.#timeoutMs);
    } catch (error) {
      this.#logger?.warn({ key, err: (error as Error).message }, "cache invalidation failed");
    }
  }

  /** Lazy migration: replace the legacy value with v2 only if it is still the one read; TTL kept. */
  async #rewrite(key: string, read: Buffer, data: UserRecord, from: ValueFormat): Promise<void> {
    try {
      const written = await withTimeout(this.#redis.switchboardCacheCas(key, read, encodeEnvelope(data)), this.#timeoutMs);
      if (written === 1) this.#metrics?.cacheMigrations.inc({ from });
    } catch (error) {
      this.#logger?.warn({ key, from, err: (error as Error).message }, "lazy v2 rewrite failed; value left as is");
    }
  }

  #count<T>(format: ReadFormat, result: ReadResult, value: T): T {
    this.#metrics?.cacheReads.inc({ format, result });
    return value;
  }
}
