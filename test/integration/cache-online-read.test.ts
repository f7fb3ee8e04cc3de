import { beforeEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { UserCache } from "../../server/src/cache/user-cache.js";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { createMetrics } from "../../server/src/metrics.js";
import { CANARY_PATH, corpusOf, corpusUserId, loadCorpus, loadCorpusInto, snapshot, ttlKept, useRedis } from "../helpers/corpus.js";

const redis = useRedis();
let metrics: ReturnType<typeof createMetrics>;
let cache: UserCache;

beforeEach(async () => {
  await loadCorpusInto(redis.client);
  metrics = createMetrics({ defaultMetrics: false });
  cache = new UserCache({ redis: redis.client, ttlSeconds: 3600, mode: "dual", metrics });
});

async function readsCounter(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.cacheReads.get()).values) out[`${v.labels.format}/${v.labels.result}`] = v.value;
  return out;
}

describe("UserCache.get on the legacy corpus (dual mode)", () => {
  it("serves v2 as is and never rewrites it", async () => {
    for (const entry of corpusOf("v2")) {
      expect(await cache.get(corpusUserId(entry))).toEqual(entry.data);
      expect(await redis.client.getBuffer(entry.key)).toEqual(entry.value);
    }
  });

  it("serves v1 JSON, double JSON, gzip and zlib, and rewrites them as v2 keeping the TTL", async () => {
    const entries = corpusOf("v1-json", "v1-double-json", "v1-gzip", "v1-zlib");
    const before = await snapshot(redis.client);
    for (const entry of entries) {
      expect(await cache.get(corpusUserId(entry)), entry.key).toEqual(entry.data);
      const stored = await redis.client.get(entry.key);
      expect(unwrapEnvelope(JSON.parse(stored!)), entry.key).toEqual(entry.data);
      const after = await snapshot(redis.client);
      expect(ttlKept(before.get(entry.key)!, after.get(entry.key)!), entry.key).toBe(true);
      if (entry.pttlMs === -1) expect(after.get(entry.key)!.pttl, entry.key).toBe(-1);
    }
    const migrated = await metrics.cacheMigrations.get();
    expect(migrated.values.reduce((sum, v) => sum + v.value, 0)).toBe(entries.length);
    // the second read is a v2 hit
    expect(await cache.get(corpusUserId(entries[0]!))).toEqual(entries[0]!.data);
    expect((await readsCounter())["v2/hit"]).toBe(1);
  });

  it("treats every pickle as a miss without parsing or touching it", async () => {
    for (const entry of corpusOf("v1-pickle", "v1-pickle-datetime", "pickle-malicious")) {
      expect(await cache.get(corpusUserId(entry)), entry.key).toBeNull();
      expect(await redis.client.getBuffer(entry.key)).toEqual(entry.value);
    }
    expect(existsSync(CANARY_PATH)).toBe(false);
    expect((await readsCounter())["v1-pickle/miss"]).toBe(corpusOf("v1-pickle", "v1-pickle-datetime", "pickle-malicious").length);
  });

  it("treats unparseable values and the bomb as a miss and never writes them back", async () => {
    for (const entry of corpusOf("unparseable", "bomb")) {
      expect(await cache.get(corpusUserId(entry)), entry.key).toBeNull();
      expect(await redis.client.getBuffer(entry.key), entry.key).toEqual(entry.value);
    }
    const counts = await readsCounter();
    expect(counts["unknown/miss"]).toBeGreaterThanOrEqual(2); // random bytes, empty
    expect(counts["v1-gzip/error"]).toBeGreaterThanOrEqual(2); // truncated gzip, bomb
  });

  it("counts an absent key as a miss", async () => {
    expect(await cache.get(1)).toBeNull();
    expect((await readsCounter())["none/miss"]).toBe(1);
  });

  it("loads every corpus entry", () => {
    expect(loadCorpus().length).toBeGreaterThan(30);
  });
});
