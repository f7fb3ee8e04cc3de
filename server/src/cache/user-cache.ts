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

/**
 * Keys remembered for deletion once Redis is back (a write or delete that could not reach it).
 * ~100 bytes each; past this many the rest are left to their TTL (`USER_CACHE_TTL_S`), with a warning.
 */
const MAX_UNSYNCED_KEYS = 100_000;
/** After a failed write on a connection that stayed up, the delete is tried again this much later. */
const UNSYNCED_RETRY_MS = 1000;
/** Deletions sent at once when Redis is back (one round trip each batch, one key per DEL so a Cluster can route them). */
const UNSYNCED_DELETE_BATCH = 500;

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
  /**
   * Users whose record changed while their write (or delete) could not reach Redis: the old record
   * may still be there, and every instance would serve it until its TTL ends. Deleted as soon as
   * the connection is ready again.
   */
  readonly #unsynced = new Set<string>();
  #unsyncedOverflowWarned = false;
  #flushing: Promise<void> | null = null;
  #retry: NodeJS.Timeout | null = null;
  readonly #onReady = () => void this.flushUnsynced();

  constructor(options: UserCacheOptions) {
    this.#redis = cacheCommands(options.redis);
    this.#ttlSeconds = options.ttlSeconds;
    this.#prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#timeoutMs = options.commandTimeoutMs ?? 500;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#mode = options.mode;
    this.setMode(options.mode);
    this.#redis.on("ready", this.#onReady);
  }

  /** Stops listening to the connection (the server's shutdown). */
  close(): void {
    this.#redis.off("ready", this.#onReady);
    if (this.#retry) clearTimeout(this.#retry);
  }

  /** Records still to delete once Redis is reachable (see `set`). */
  get unsyncedCount(): number {
    return this.#unsynced.size;
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
      if (this.#redis.status !== "ready") return this.#rememberUnsynced(key);
      await withTimeout(this.#redis.set(key, text, "EX", this.#ttlSeconds), this.#timeoutMs);
      this.#unsynced.delete(key);
    } catch (error) {
      this.#rememberUnsynced(key);
      this.#logger?.warn({ key, err: (error as Error).message }, "cache write skipped; the record is deleted once Redis is back");
    }
  }

  /** Deletes the cached user — never throws. */
  async invalidate(userId: number): Promise<void> {
    const key = this.key(userId);
    try {
      if (this.#redis.status !== "ready") return this.#rememberUnsynced(key);
      await withTimeout(this.#redis.del(key), this.#timeoutMs);
      this.#unsynced.delete(key);
    } catch (error) {
      this.#rememberUnsynced(key);
      this.#logger?.warn({ key, err: (error as Error).message }, "cache invalidation failed; retried once Redis is back");
    }
  }

  /**
   * Deletes every record whose write or delete missed Redis, in batches, while the connection is
   * ready (called on each `ready`). A batch that fails stays remembered for the next `ready`.
   * Never throws.
   */
  flushUnsynced(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    let deleted = 0;
    while (this.#unsynced.size > 0 && this.#redis.status === "ready") {
      const batch: string[] = [];
      for (const key of this.#unsynced) {
        batch.push(key);
        if (batch.length === UNSYNCED_DELETE_BATCH) break;
      }
      try {
        await withTimeout(Promise.all(batch.map((key) => this.#redis.del(key))), this.#timeoutMs * 4);
      } catch (error) {
        this.#logger?.warn(
          { pending: this.#unsynced.size, err: (error as Error).message },
          "deleting cache records changed during the outage failed; retried on reconnect",
        );
        this.#retryIfUp();
        return;
      }
      for (const key of batch) this.#unsynced.delete(key);
      deleted += batch.length;
    }
    if (deleted > 0) this.#logger?.info({ deleted }, "deleted cache records whose change had not reached Redis");
    if (this.#unsynced.size === 0) this.#unsyncedOverflowWarned = false;
  }

  /** A call that failed on a connection still up (a timeout) sees no `ready` to retry on: try again shortly. */
  #retryIfUp(): void {
    if (this.#redis.status !== "ready" || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.flushUnsynced();
    }, UNSYNCED_RETRY_MS);
    this.#retry.unref();
  }

  #rememberUnsynced(key: string): void {
    if (this.#unsynced.size < MAX_UNSYNCED_KEYS || this.#unsynced.has(key)) {
      this.#unsynced.add(key);
      this.#retryIfUp();
      return;
    }
    if (this.#unsyncedOverflowWarned) return;
    this.#unsyncedOverflowWarned = true;
    this.#logger?.warn(
      { max: MAX_UNSYNCED_KEYS, ttlSeconds: this.#ttlSeconds },
      "too many cache records changed while Redis was unreachable to delete them all on recovery; the rest expire with their TTL",
    );
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
