import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserCache } from "../../server/src/cache/user-cache.js";
import { createMetrics } from "../../server/src/metrics.js";
import { startLocalRedis, type LocalRedisServer } from "../helpers/redis.js";

let server: LocalRedisServer;
let client: Redis;
beforeAll(async () => {
  server = await startLocalRedis();
  client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on("error", () => undefined); // reconnect noise while Redis is down on purpose
  await client.ping();
});
afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

const alice = { id: 7, username: "alice" };
/** A liveness bound, not a speed assertion: a call that hangs fails the test. */
const settlesWithin = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms))]);

describe("UserCache when Redis is unavailable", () => {
  it("a frozen Redis: get() is a miss after the command timeout; set/invalidate never throw", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const cache = new UserCache({ redis: client, ttlSeconds: 60, mode: "dual", metrics, commandTimeoutMs: 200 });
    await cache.set(7, alice);
    expect(await cache.get(7)).toEqual(alice);
    server.process.kill("SIGSTOP");
    try {
      expect(await settlesWithin(cache.get(7), 3000)).toBeNull();
      await settlesWithin(cache.set(7, alice), 3000);
      await settlesWithin(cache.invalidate(7), 3000);
    } finally {
      server.process.kill("SIGCONT");
    }
    const errors = (await metrics.cacheReads.get()).values.find((v) => v.labels.format === "none" && v.labels.result === "error");
    expect(errors?.value).toBe(1);
  });

  it("a dead Redis: get() is a miss at once; after a restart it works again", async () => {
    const cache = new UserCache({ redis: client, ttlSeconds: 60, mode: "dual", commandTimeoutMs: 200 });
    await server.kill();
    expect(await settlesWithin(cache.get(7), 3000)).toBeNull();
    await settlesWithin(cache.set(7, alice), 3000);
    await settlesWithin(cache.invalidate(7), 3000);
    await server.restart();
    for (let i = 0; i < 100 && client.status !== "ready"; i++) await new Promise((r) => setTimeout(r, 50));
    await cache.set(7, alice);
    expect(await cache.get(7)).toEqual(alice);
  });
});
