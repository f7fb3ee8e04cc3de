import { describe, expect, it } from "vitest";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { MAX_JSON_STRING_LEVELS } from "../../server/src/cache/limits.js";
import { UserCache } from "../../server/src/cache/user-cache.js";
import { createMetrics } from "../../server/src/metrics.js";
import { snapshot, ttlKept, useRedis } from "../helpers/corpus.js";

const redis = useRedis();

function wrapped(id: number, levels: number): string {
  let text = JSON.stringify({ id, username: `user${id}` });
  for (let i = 0; i < levels; i++) text = JSON.stringify(text);
  return text;
}

describe("UserCache.get on values wrapped as a JSON string several times", () => {
  it(`serves up to ${MAX_JSON_STRING_LEVELS} levels and rewrites them as v2 keeping the TTL (dual)`, async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const cache = new UserCache({ redis: redis.client, ttlSeconds: 3600, mode: "dual", metrics });
    for (let levels = 2; levels <= MAX_JSON_STRING_LEVELS; levels++) await redis.client.set(`user:${levels}`, wrapped(levels, levels), "PX", 600_000);
    const before = await snapshot(redis.client);
    for (let levels = 2; levels <= MAX_JSON_STRING_LEVELS; levels++) {
      expect(await cache.get(levels), `${levels} levels`).toEqual({ id: levels, username: `user${levels}` });
    }
    const after = await snapshot(redis.client);
    for (let levels = 2; levels <= MAX_JSON_STRING_LEVELS; levels++) {
      const key = `user:${levels}`;
      expect(unwrapEnvelope(JSON.parse(after.get(key)!.value!.toString())), key).toEqual({ id: levels, username: `user${levels}` });
      expect(ttlKept(before.get(key)!, after.get(key)!), key).toBe(true);
    }
    const hits = (await metrics.cacheReads.get()).values.find((v) => v.labels.format === "v1-double-json" && v.labels.result === "hit");
    expect(hits?.value).toBe(MAX_JSON_STRING_LEVELS - 1);
  });

  it("treats a value nested deeper than the bound as a miss and leaves it alone", async () => {
    const cache = new UserCache({ redis: redis.client, ttlSeconds: 3600, mode: "dual" });
    const deep = wrapped(7, MAX_JSON_STRING_LEVELS + 1);
    await redis.client.set("user:7", deep);
    expect(await cache.get(7)).toBeNull();
    expect(await redis.client.get("user:7")).toBe(deep);
  });
});
