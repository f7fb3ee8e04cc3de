import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { login } from "../helpers/chat-client.js";
import { startLossyProxy, type LossyProxy } from "../helpers/lossy-proxy.js";
import { startPostgres, type LocalPostgres } from "../helpers/postgres.js";
import { startLocalRedis, type LocalRedisServer } from "../helpers/redis.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";

// Instance A answers the conditional refresh from the ETag it keeps in memory. A change made on
// instance B must reach it before B's request returns, whatever the pub/sub timing: A's link to
// Redis is slowed down (0–40 ms per chunk), so the invalidation message arrives at A well after
// B's PATCH returned and the next request was sent to A.
describe("profile ETag: a change on another instance", () => {
  let postgres: LocalPostgres;
  let redis: LocalRedisServer;
  let slowLink: LossyProxy;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    postgres = await startPostgres();
    redis = await startLocalRedis();
    slowLink = await startLossyProxy({ host: "127.0.0.1", port: redis.port });
    const env = { DATABASE_URL: postgres.url };
    b = await startServerProcess({ env: { ...env, REDIS_URL: redis.url, INSTANCE_ID: "etag-b" } });
    a = await startServerProcess({ env: { ...env, REDIS_URL: `redis://127.0.0.1:${slowLink.port}`, INSTANCE_ID: "etag-a" } });
    slowLink.setJitter(40);
  }, 120_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await slowLink?.close();
    await redis?.stop();
    await postgres?.stop();
  });

  // supertest, not fetch: Node's fetch adds Cache-Control: no-cache, which defeats 304.
  const profile = (url: string, token: string, etag?: string) => {
    const r = request(url).get(RestPath.profileMe).set("Authorization", `Bearer ${token}`);
    return etag ? r.set("If-None-Match", etag) : r;
  };

  /** A's ETag for the user, confirmed twice with 304 (the second from memory). */
  async function warm(token: string): Promise<string> {
    const first = await profile(a.url, token);
    expect(first.status).toBe(200);
    const etag = String(first.headers.etag);
    expect((await profile(a.url, token, etag)).status).toBe(304);
    expect((await profile(a.url, token, etag)).status).toBe(304);
    return etag;
  }

  it("answers 200 with the new ETag right after B's PATCH returned, every time", async () => {
    const alice = await login(b.url, "alice");
    for (let round = 0; round < 15; round++) {
      const before = await warm(alice.accessToken);
      const patch = await request(b.url)
        .patch(RestPath.profileMe)
        .set("Authorization", `Bearer ${alice.accessToken}`)
        .send({ bio: `round ${round}` });
      expect(patch.status).toBe(200);
      const after = await profile(a.url, alice.accessToken, before);
      expect(after.status, `round ${round}`).toBe(200);
      expect(after.headers.etag).toBe(patch.headers.etag);
      expect(after.body).toMatchObject({ bio: `round ${round}` });
      expect((await profile(a.url, alice.accessToken, String(after.headers.etag))).status).toBe(304);
    }
  }, 60_000);

  it("answers 200 after an admin on B changed the role", async () => {
    const bob = await login(a.url, "bob");
    const carol = await login(b.url, "carol");
    const before = await warm(bob.accessToken);
    const change = await request(b.url)
      .put(RestPath.adminRole(bob.user.id))
      .set("Authorization", `Bearer ${carol.accessToken}`)
      .send({ role: "moderator", permissions: ["chat", "moderate"] });
    expect(change.status).toBe(200);
    const after = await profile(a.url, bob.accessToken, before);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ role: "moderator", permissions: ["chat", "moderate"] });
  }, 30_000);
});
