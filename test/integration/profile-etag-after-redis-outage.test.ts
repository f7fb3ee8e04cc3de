import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { login } from "../helpers/chat-client.js";
import { startLossyProxy, type LossyProxy } from "../helpers/lossy-proxy.js";
import { startPostgres, type LocalPostgres } from "../helpers/postgres.js";
import { startLocalRedis, type LocalRedisServer } from "../helpers/redis.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { until } from "../helpers/until.js";

// Pub/sub does not replay what a subscriber missed. Whenever instance A may have missed a profile
// change (its link to Redis lost, Redis restarted empty), it must drop the ETags it keeps and
// not answer 304 for one that a change on instance B made stale meanwhile.
describe("profile ETag: after a Redis outage", () => {
  let postgres: LocalPostgres;
  let redis: LocalRedisServer;
  let linkOfA: LossyProxy;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    postgres = await startPostgres();
    redis = await startLocalRedis();
    linkOfA = await startLossyProxy({ host: "127.0.0.1", port: redis.port });
    const env = { DATABASE_URL: postgres.url };
    b = await startServerProcess({ env: { ...env, REDIS_URL: redis.url, INSTANCE_ID: "outage-b" } });
    a = await startServerProcess({ env: { ...env, REDIS_URL: `redis://127.0.0.1:${linkOfA.port}`, INSTANCE_ID: "outage-a" } });
  }, 120_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await linkOfA?.close();
    await redis?.stop();
    await postgres?.stop();
  });

  const profile = (url: string, token: string, etag?: string) => {
    const r = request(url).get(RestPath.profileMe).set("Authorization", `Bearer ${token}`);
    return etag ? r.set("If-None-Match", etag) : r;
  };
  const ready = (url: string) =>
    fetch(`${url}/readyz`).then(
      (res) => res.status,
      () => 0,
    );
  const patchBio = (url: string, token: string, bio: string) => request(url).patch(RestPath.profileMe).set("Authorization", `Bearer ${token}`).send({ bio });

  async function warm(token: string): Promise<string> {
    const etag = String((await profile(a.url, token)).headers.etag);
    expect((await profile(a.url, token, etag)).status).toBe(304);
    expect((await profile(a.url, token, etag)).status).toBe(304);
    return etag;
  }

  it("A lost its link while B changed the profile: 200 with the new ETag once A is back", async () => {
    const alice = await login(b.url, "alice");
    const before = await warm(alice.accessToken);
    const restore = linkOfA.cut();
    expect(await until(async () => (await ready(a.url)) === 503, 10_000)).toBe(true);
    const patch = await patchBio(b.url, alice.accessToken, "changed while A was cut off");
    expect(patch.status).toBe(200);
    restore();
    expect(await until(async () => (await ready(a.url)) === 200, 20_000)).toBe(true);
    const after = await profile(a.url, alice.accessToken, before);
    expect(after.status).toBe(200);
    expect(after.headers.etag).toBe(patch.headers.etag);
    expect((await profile(a.url, alice.accessToken, String(after.headers.etag))).status).toBe(304);
  }, 60_000);

  it("Redis restarted empty after B changed the profile during the outage: 200 with the new ETag", async () => {
    const bob = await login(b.url, "bob");
    const before = await warm(bob.accessToken);
    await redis.kill();
    expect(await until(async () => (await ready(a.url)) === 503 && (await ready(b.url)) === 503, 10_000)).toBe(true);
    // While Redis is away A answers from the database, and a conditional refresh is still a 304.
    expect((await profile(a.url, bob.accessToken, before)).status).toBe(304);
    const patch = await patchBio(b.url, bob.accessToken, "changed during the outage");
    expect(patch.status).toBe(200);
    await redis.restart();
    expect(await until(async () => (await ready(a.url)) === 200 && (await ready(b.url)) === 200, 20_000)).toBe(true);
    const after = await profile(a.url, bob.accessToken, before);
    expect(after.status).toBe(200);
    expect(after.headers.etag).toBe(patch.headers.etag);
  }, 60_000);
});
