import { describe, expect, it } from "vitest";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { UserCache, type UserRecord } from "../../server/src/cache/user-cache.js";
import { createMetrics } from "../../server/src/metrics.js";
import { corpusUserId, loadCorpus, loadCorpusInto, useRedis } from "../helpers/corpus.js";

const redis = useRedis({ flushEachTest: false });

/** The database: the source of truth every cache miss falls back to. */
const users = loadCorpus().filter((entry) => entry.key.startsWith("user:"));
const database = new Map<number, UserRecord>(
  users.map((entry) => [corpusUserId(entry), entry.data ?? { id: corpusUserId(entry), username: `db${corpusUserId(entry)}` }]),
);
let databaseReads = 0;

/** What the profile endpoint does: cache, else database + cache fill. */
async function profile(cache: UserCache, id: number): Promise<UserRecord | undefined> {
  const cached = await cache.get(id);
  if (cached) return cached;
  databaseReads += 1;
  const record = database.get(id);
  if (record) await cache.set(id, record);
  return record;
}

/** One field of each envelope broken, a different one for each key. */
const CORRUPTIONS: ((envelope: Record<string, unknown>) => void)[] = [
  (e) => void (e.schema_version = "3"),
  (e) => void (e.content_type = "text/plain"),
  (e) => void (e.created_at = "not a date"),
  (e) => void ((e.data as Record<string, unknown>).id = "string id"),
  (e) => void (e.data = ["not", "an", "object"]),
];

describe("rollback drill", () => {
  it("corrupt every v2 envelope, switch to v1: the service keeps answering correctly from v1/DB", async () => {
    await loadCorpusInto(redis.client);
    const metrics = createMetrics({ defaultMetrics: false });
    const cache = new UserCache({ redis: redis.client, ttlSeconds: 3600, mode: "dual", metrics });
    const ids = [...database.keys()];

    // 1. dual: everything answers; legacy values end up v2 (lazily, or refilled from the DB).
    for (const id of ids) expect(await profile(cache, id), `user ${id}`).toEqual(database.get(id));
    for (const id of ids) expect(unwrapEnvelope(JSON.parse((await redis.client.get(`user:${id}`))!)), `user ${id}`).toEqual(database.get(id));

    // 2. A bad v2 rollout: one field of every envelope is wrong (TTL kept).
    let i = 0;
    for (const id of ids) {
      const envelope = JSON.parse((await redis.client.get(`user:${id}`))!) as Record<string, unknown>;
      CORRUPTIONS[i++ % CORRUPTIONS.length]!(envelope);
      await redis.client.set(`user:${id}`, JSON.stringify(envelope), "KEEPTTL");
    }

    // 3. Roll back: CACHE_FORMAT_MODE=v1, no deploy.
    cache.setMode("v1");
    databaseReads = 0;
    for (const id of ids) expect(await profile(cache, id), `user ${id}`).toEqual(database.get(id));
    expect(databaseReads).toBe(ids.length); // every corrupt envelope was a miss, refilled from the DB
    for (const id of ids) expect(JSON.parse((await redis.client.get(`user:${id}`))!), `user ${id} is v1 JSON`).toEqual(database.get(id));

    // 4. Still in v1: answered from the v1 cache.
    databaseReads = 0;
    for (const id of ids) expect(await profile(cache, id)).toEqual(database.get(id));
    expect(databaseReads).toBe(0);

    // 5. Roll forward again: dual reads v1 and rewrites it as v2.
    cache.setMode("dual");
    for (const id of ids) expect(await profile(cache, id)).toEqual(database.get(id));
    expect(databaseReads).toBe(0);
    for (const id of ids) expect(unwrapEnvelope(JSON.parse((await redis.client.get(`user:${id}`))!))).toEqual(database.get(id));
    const errors = (await metrics.cacheReads.get()).values.filter((v) => v.labels.format === "v2" && v.labels.result === "error");
    expect(errors.reduce((sum, v) => sum + v.value, 0)).toBe(ids.length);
  });
});
