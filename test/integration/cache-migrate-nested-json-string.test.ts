import { describe, expect, it } from "vitest";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { MAX_JSON_STRING_LEVELS } from "../../server/src/cache/limits.js";
import { migrateCorpus, snapshot, ttlKept, useRedis, type Strategy } from "../helpers/corpus.js";

const redis = useRedis();

/** A user object as JSON, wrapped as a JSON string `levels` times. */
function wrapped(id: number, levels: number): string {
  let text = JSON.stringify({ id, username: `user${id}` });
  for (let i = 0; i < levels; i++) text = JSON.stringify(text);
  return text;
}

describe.each<Strategy>(["bulk", "pipeline"])("cache:migrate on values wrapped as a JSON string several times (%s)", (strategy) => {
  it(`migrates 1 to ${MAX_JSON_STRING_LEVELS} levels keeping the TTL, and keeps a deeper one, reported`, async () => {
    for (let levels = 1; levels <= MAX_JSON_STRING_LEVELS + 1; levels++) {
      await redis.client.set(`user:${levels}`, wrapped(levels, levels), "PX", 600_000 + levels);
    }
    await redis.client.set(`user:9`, wrapped(9, 2)); // no TTL stays no TTL
    const before = await snapshot(redis.client);

    const report = await migrateCorpus(redis.client, strategy);

    const after = await snapshot(redis.client);
    for (const id of [1, 2, 3, 4, 9]) {
      expect(unwrapEnvelope(JSON.parse(after.get(`user:${id}`)!.value!.toString())), `user:${id}`).toEqual({ id, username: `user${id}` });
      expect(ttlKept(before.get(`user:${id}`)!, after.get(`user:${id}`)!), `user:${id}`).toBe(true);
    }
    expect(after.get("user:9")!.pttl).toBe(-1);
    const deepest = `user:${MAX_JSON_STRING_LEVELS + 1}`;
    expect(after.get(deepest)!.value).toEqual(before.get(deepest)!.value); // kept as it was
    expect(report).toMatchObject({
      keys: MAX_JSON_STRING_LEVELS + 2,
      migrated: MAX_JSON_STRING_LEVELS + 1,
      migratedFrom: { "v1-double-json": MAX_JSON_STRING_LEVELS + 1 },
      failed: 1,
      failedReasons: { unparseable: 1 },
    });
  });
});
