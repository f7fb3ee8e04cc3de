import { Redis } from "ioredis";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { login } from "../helpers/chat-client.js";
import { startLossyProxy, type LossyProxy } from "../helpers/lossy-proxy.js";
import { startPostgres, type LocalPostgres } from "../helpers/postgres.js";
import { startLocalRedis, type LocalRedisServer } from "../helpers/redis.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { until } from "../helpers/until.js";

// A profile changed while the instance could not reach Redis is stored in the database, but the
// old `user:{id}` record stays in Redis: without a delete on recovery every instance would serve
// it (a cache hit) until its TTL ran out (`USER_CACHE_TTL_S`, an hour by default).
describe("user cache: a record changed while Redis was unreachable", () => {
  let postgres: LocalPostgres;
  let redis: LocalRedisServer;
  let direct: Redis;
  let link: LossyProxy;
  let server: ServerProcess;

  beforeAll(async () => {
    postgres = await startPostgres();
    redis = await startLocalRedis();
    direct = new Redis(redis.url);
    link = await startLossyProxy({ host: "127.0.0.1", port: redis.port });
    server = await startServerProcess({
      env: { DATABASE_URL: postgres.url, REDIS_URL: `redis://127.0.0.1:${link.port}`, INSTANCE_ID: "cache-outage" },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await link?.close();
    direct?.disconnect();
    await redis?.stop();
    await postgres?.stop();
  });

  const ready = (url: string) =>
    fetch(`${url}/readyz`).then(
      (res) => res.status,
      () => 0,
    );
  const bioOf = async (token: string) => {
    const res = await request(server.url).get(RestPath.profileMe).set("Authorization", `Bearer ${token}`);
    expect(res.status).toBe(200);
    return (res.body as { bio: string }).bio;
  };

  it("is deleted from Redis once the link is back, so the next read shows the change", async () => {
    const alice = await login(server.url, "alice");
    const key = `user:${alice.user.id}`;
    const before = await bioOf(alice.accessToken); // fills the cache
    expect(await direct.exists(key)).toBe(1);

    const restore = link.cut();
    expect(await until(async () => (await ready(server.url)) === 503, 10_000)).toBe(true);
    const patch = await request(server.url)
      .patch(RestPath.profileMe)
      .set("Authorization", `Bearer ${alice.accessToken}`)
      .send({ bio: "changed while cut off" });
    expect(patch.status).toBe(200);
    // The write could not reach Redis: the old record is still there.
    const stale = await direct.get(key);
    expect(stale).not.toBeNull();
    expect(stale).not.toContain("changed while cut off");
    expect(before).not.toBe("changed while cut off");

    restore();
    expect(await until(async () => (await ready(server.url)) === 200, 20_000)).toBe(true);
    expect(await until(async () => (await direct.exists(key)) === 0 || ((await direct.get(key)) ?? "").includes("changed while cut off"), 10_000)).toBe(true);
    expect(await bioOf(alice.accessToken)).toBe("changed while cut off");
  }, 60_000);
});
