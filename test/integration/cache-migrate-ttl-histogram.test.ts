import { describe, expect, it } from "vitest";
import { MAX_INPUT_BYTES } from "../../server/src/cache/limits.js";
import { emptyCounters } from "../../server/src/cache-migrate/report.js";
import { migrateCorpus, useRedis, type Strategy } from "../helpers/corpus.js";

const redis = useRedis();
const DAY_MS = 86_400_000;

/**
 * The bulk store's read script buckets each TTL in Lua (one digit per key, not the number), so
 * the buckets' edges are checked here against real Redis TTLs, for both stores. Each TTL sits
 * well inside its bucket: the few milliseconds between SET and the read cannot move it.
 */
const TTLS: [pttlMs: number | null, bucket: keyof ReturnType<typeof emptyCounters>["ttl"]][] = [
  [null, "no-ttl"],
  [30_000, "<1m"],
  [5 * 60_000, "1m-10m"],
  [30 * 60_000, "10m-1h"],
  [12 * 3600_000, "1h-1d"],
  [3 * DAY_MS, "1d-7d"],
  [30 * DAY_MS, ">=7d"],
];

describe.each<Strategy>(["bulk", "pipeline"])("the report's TTL histogram (%s)", (strategy) => {
  it("counts every key in the bucket of its remaining TTL, whatever was found there", async () => {
    const expected = emptyCounters().ttl;
    let id = 0;
    for (const [pttl, bucket] of TTLS) {
      // A value to migrate and a non-string key per bucket; an oversize value (10 MB) for two.
      const values: (() => Promise<unknown>)[] = [
        () => redis.client.set(`user:${++id}`, JSON.stringify({ id, username: `u${id}` })),
        () => redis.client.hset(`user:${++id}`, "id", String(id)),
      ];
      if (bucket === "no-ttl" || bucket === "1d-7d") values.push(() => redis.client.set(`user:${++id}`, Buffer.alloc(MAX_INPUT_BYTES + 1, 0x7b)));
      for (const write of values) {
        await write();
        if (pttl !== null) await redis.client.pexpire(`user:${id}`, pttl);
        expected[bucket] += 1;
      }
    }
    const report = await migrateCorpus(redis.client, strategy);
    expect(report).toMatchObject({ keys: id, migrated: TTLS.length, failedReasons: { oversize: 2, "non-string": TTLS.length } });
    expect(report.ttl).toEqual(expected);
  });
});
