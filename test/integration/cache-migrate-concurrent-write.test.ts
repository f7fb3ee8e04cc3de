import { describe, expect, it } from "vitest";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { UserCache } from "../../server/src/cache/user-cache.js";
import { migrateCorpus, useRedis, type Strategy } from "../helpers/corpus.js";

const redis = useRedis();

describe.each<Strategy>(["bulk", "pipeline"])("an online write during a migration run (%s)", (strategy) => {
  it("is never overwritten: the compare-and-set loses, the key is re-read and left as written", async () => {
    for (let id = 1; id <= 30; id++) await redis.client.set(`user:${id}`, JSON.stringify({ id, username: `old${id}` }), "EX", 600);
    const online = new UserCache({ redis: redis.client, ttlSeconds: 3600, mode: "dual" });
    const report = await migrateCorpus(redis.client, strategy, {
      beforeWrite: async (ops) => {
        // The service writes fresh data for every third user between the tool's read and write.
        for (const op of ops) {
          const id = Number(op.key.slice("user:".length));
          if (id % 3 === 0) await online.set(id, { id, username: `fresh${id}`, role: "admin" });
        }
      },
    });
    for (let id = 1; id <= 30; id++) {
      const data = unwrapEnvelope(JSON.parse((await redis.client.get(`user:${id}`))!));
      expect(data, `user:${id}`).toEqual(id % 3 === 0 ? { id, username: `fresh${id}`, role: "admin" } : { id, username: `old${id}` });
    }
    expect(report).toMatchObject({ keys: 30, migrated: 20, conflicts: 10, retries: 10, skipped: 10, failed: 0 });
  });
});
