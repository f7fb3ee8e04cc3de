import { describe, expect, it } from "vitest";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { migrateCorpus, snapshot, ttlKept, useRedis, type Strategy } from "../helpers/corpus.js";

const redis = useRedis();

describe.each<Strategy>(["bulk", "pipeline"])("a key that expires during a run (%s)", (strategy) => {
  it("is not resurrected; keys around it keep their TTL", async () => {
    for (let id = 1; id <= 20; id++) {
      const value = JSON.stringify({ id, username: `u${id}` });
      if (id % 2)
        await redis.client.set(`user:${id}`, value, "PX", 300); // expires mid-run
      else await redis.client.set(`user:${id}`, value, "PX", 600_000);
    }
    const before = await snapshot(redis.client);
    let paused = false;
    const report = await migrateCorpus(redis.client, strategy, {
      beforeWrite: async () => {
        if (paused) return;
        paused = true;
        await new Promise((resolve) => setTimeout(resolve, 500)); // read, then the short TTLs run out
      },
    });
    const after = await snapshot(redis.client);
    for (let id = 1; id <= 20; id++) {
      if (id % 2) {
        expect(after.has(`user:${id}`), `user:${id} must stay expired`).toBe(false);
      } else {
        expect(unwrapEnvelope(JSON.parse(after.get(`user:${id}`)!.value!.toString()))).toEqual({ id, username: `u${id}` });
        expect(ttlKept(before.get(`user:${id}`)!, after.get(`user:${id}`)!)).toBe(true);
      }
    }
    expect(report).toMatchObject({ migrated: 10, expired: 10, conflicts: 10, keys: 20 });
  });
});
