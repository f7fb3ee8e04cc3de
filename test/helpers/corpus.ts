import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { BulkKeyStore } from "../../server/src/cache-migrate/bulk-key-store.js";
import { runMigration, type MigrateOptions } from "../../server/src/cache-migrate/migrator.js";
import { PipelineKeyStore } from "../../server/src/cache-migrate/pipeline-key-store.js";
import { redisForTest } from "./redis.js";

/**
 * The shared legacy-cache corpus (`../shared/fixtures/legacy-cache/corpus.jsonl` beside the repo):
 * real values written by Python, one JSON object a line (see its README).
 */
/** Each class of the corpus and what a correct system does with it (from the corpus README). */
export const CORPUS_CLASS_BEHAVIOUR = {
  v2: "the new envelope: read as is, never rewritten",
  "v1-json": "legacy data: readable online; migrated to v2 keeping the TTL",
  "v1-double-json": "legacy data: readable online; migrated to v2 keeping the TTL",
  "v1-gzip": "legacy data: readable online; migrated to v2 keeping the TTL",
  "v1-zlib": "legacy data: readable online; migrated to v2 keeping the TTL",
  "v1-pickle": "a miss online; migrated only by the tool with its pickle flag",
  "v1-pickle-datetime": "as v1-pickle, with created_at (a datetime.datetime) as an ISO 8601 string",
  "pickle-malicious": "never executed, never migrated (not even as {}), reported",
  unparseable: "reported, kept unless deletion is asked for, never rewritten",
  bomb: "refused at the output cap without allocating it",
  "other-prefix": "not under user:, left alone",
} as const;
export const CORPUS_CLASSES = Object.keys(CORPUS_CLASS_BEHAVIOUR) as (keyof typeof CORPUS_CLASS_BEHAVIOUR)[];
export type CorpusClass = keyof typeof CORPUS_CLASS_BEHAVIOUR;

export interface CorpusEntry {
  key: string;
  value: Buffer;
  /** TTL to load with, in ms; -1 = no TTL. */
  pttlMs: number;
  class: CorpusClass;
  data: Record<string, unknown> | null;
  note: string;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CORPUS_PATH = path.resolve(repoRoot, "..", "shared", "fixtures", "legacy-cache", "corpus.jsonl");
export const CANARY_PATH = "/tmp/switchboard-pickle-canary";

let cached: CorpusEntry[] | undefined;

export function loadCorpus(): CorpusEntry[] {
  if (cached) return cached;
  if (!existsSync(CORPUS_PATH)) {
    throw new Error(
      `Legacy cache corpus not found at ${CORPUS_PATH}. It lives in the shared folder beside the repo ` +
        `(../shared/fixtures/legacy-cache/corpus.jsonl); copy or check out "shared/" next to the repository.`,
    );
  }
  cached = readFileSync(CORPUS_PATH, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const raw = JSON.parse(line) as { key: string; value_b64: string; pttl_ms: number; class: CorpusClass; data: CorpusEntry["data"]; note: string };
      if (!CORPUS_CLASSES.includes(raw.class)) throw new Error(`corpus: unknown class "${raw.class}" for ${raw.key}`);
      return { key: raw.key, value: Buffer.from(raw.value_b64, "base64"), pttlMs: raw.pttl_ms, class: raw.class, data: raw.data, note: raw.note };
    });
  return cached;
}

export function corpusOf(...classes: CorpusClass[]): CorpusEntry[] {
  return loadCorpus().filter((entry) => classes.includes(entry.class));
}

/** Loads entries into Redis with their TTLs (`-1` → no TTL). */
export async function loadCorpusInto(redis: Redis, entries: CorpusEntry[] = loadCorpus()): Promise<void> {
  const pipeline = redis.pipeline();
  for (const entry of entries) {
    if (entry.pttlMs > 0) pipeline.set(entry.key, entry.value, "PX", entry.pttlMs);
    else pipeline.set(entry.key, entry.value);
  }
  const results = await pipeline.exec();
  for (const [error] of results ?? []) if (error) throw error;
}

/** Asserts `after` kept the TTL of `before`: no TTL stays none, an expiry moves by ≤ 50 ms. */
export function ttlKept(before: KeySnapshot, after: KeySnapshot): boolean {
  if (before.expireAt === -1) return after.expireAt === -1;
  return after.expireAt > 0 && Math.abs(after.expireAt - before.expireAt) <= 50;
}

/** The user id in a corpus key (`user:42` → 42). */
export function corpusUserId(entry: CorpusEntry): number {
  return Number(entry.key.slice(entry.key.indexOf(":") + 1));
}

// ---- Running the migration tool on a corpus loaded in Redis -------------------------------

export type Strategy = "bulk" | "pipeline";

/** Runs the migration tool in-process against one standalone Redis. */
export function migrateCorpus(redis: Redis, strategy: Strategy, options: Partial<MigrateOptions> = {}) {
  const store = strategy === "bulk" ? new BulkKeyStore(redis, { id: "test" }) : new PipelineKeyStore(redis, { id: "test" });
  return runMigration({ stores: [store], control: redis, ...options });
}

export interface KeySnapshot {
  value: Buffer | null;
  pttl: number;
  /** Absolute expiry in Unix ms (`PEXPIRETIME`); -1 = no TTL. Unchanged when a TTL is kept. */
  expireAt: number;
}

/** Every key (but the migration checkpoint) with its raw value and TTL. */
export async function snapshot(redis: Redis): Promise<Map<string, KeySnapshot>> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ count: 1000 }) as AsyncIterable<string[]>) keys.push(...batch);
  const out = new Map<string, KeySnapshot>();
  for (const key of [...new Set(keys)].sort()) {
    if (key.startsWith("switchboard:cache-migrate:")) continue;
    const [value, pttl, expireAt] = [await redis.getBuffer(key), await redis.pttl(key), (await redis.call("PEXPIRETIME", key)) as number];
    out.set(key, { value, pttl, expireAt });
  }
  return out;
}

/**
 * `count` generated legacy users `user:{start..}`: mostly v1 JSON, some double-encoded, gzip,
 * zlib, and every tenth already v2. Returns how many of each were written.
 */
export async function loadGeneratedUsers(redis: Redis, count: number, start = 1_000_000): Promise<{ legacy: number; v2: number }> {
  const { gzipSync, deflateSync } = await import("node:zlib");
  let legacy = 0;
  let v2 = 0;
  const pipeline = redis.pipeline();
  for (let i = 0; i < count; i++) {
    const id = start + i;
    const text = JSON.stringify({ id, username: `user${id}`, email: `user${id}@example.com`, phone: "13812341234" });
    const kind = i % 10;
    const value =
      kind === 9
        ? `{"schema_version":"2","content_type":"application/json","data":${text},"created_at":"2025-01-01T00:00:00Z"}`
        : kind === 8
          ? gzipSync(text)
          : kind === 7
            ? deflateSync(text)
            : kind === 6
              ? JSON.stringify(text)
              : text;
    if (kind === 9) v2 += 1;
    else legacy += 1;
    pipeline.set(`user:${id}`, value, "PX", 600_000 + i);
  }
  await pipeline.exec();
  return { legacy, v2 };
}

/**
 * A private Redis for the cache tests of one file: started before all tests, emptied before
 * each (unless `flushEachTest: false`), stopped after. Use `.client` / `.server` inside tests.
 */
export function useRedis(options: { flushEachTest?: boolean } = {}) {
  let redis: Awaited<ReturnType<typeof redisForTest>> | undefined;
  const current = () => {
    if (!redis) throw new Error("useRedis(): the Redis is only there inside tests (after beforeAll)");
    return redis;
  };
  beforeAll(async () => {
    redis = await redisForTest();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  if (options.flushEachTest !== false) beforeEach(async () => void (await current().client.flushall()));
  return {
    get client() {
      return current().client;
    },
    get server() {
      return current().server;
    },
  };
}
