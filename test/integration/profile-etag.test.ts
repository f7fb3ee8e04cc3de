import request from "supertest";
import { RestPath } from "../../shared/protocol/index.js";
import { describe, expect, it } from "vitest";
import { login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

// supertest, not fetch: Node's fetch adds Cache-Control: no-cache and defeats 304.
describe("GET /api/users/profile/me — ETag and 304", () => {
  const t = useTestServer();

  const profile = (token: string, etag?: string) => {
    const r = request(t.url).get(RestPath.profileMe).set("Authorization", `Bearer ${token}`);
    return etag ? r.set("If-None-Match", etag) : r;
  };

  it("answers 200 with a strong ETag and the cache headers", async () => {
    const alice = await login(t.url, "alice");
    const res = await profile(alice.accessToken);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"[^"]+"$/); // strong: no W/ prefix
    expect(res.headers["cache-control"]).toBe("private, max-age=300");
    expect(res.headers.vary).toBe("Authorization, Cookie");
    expect(res.body).toMatchObject({ id: alice.user.id, username: "alice", role: "user", permissions: ["chat"] });
  });

  it("answers a matching If-None-Match with 304, no body and the same headers", async () => {
    const alice = await login(t.url, "alice");
    const first = await profile(alice.accessToken);
    const second = await profile(alice.accessToken, first.headers.etag);
    expect(second.status).toBe(304);
    expect(second.text).toBe("");
    expect(second.headers["content-length"]).toBeUndefined();
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.headers["cache-control"]).toBe("private, max-age=300");
    expect(second.headers.vary).toBe("Authorization, Cookie");
    const stale = await profile(alice.accessToken, '"something-else"');
    expect(stale.status).toBe(200);
  });

  it("changes the ETag when an admin changes the role", async () => {
    const bob = await login(t.url, "bob");
    const carol = await login(t.url, "carol");
    const before = await profile(bob.accessToken);
    const change = await request(t.url)
      .put(RestPath.adminRole(bob.user.id))
      .set("Authorization", `Bearer ${carol.accessToken}`)
      .send({ role: "moderator", permissions: ["chat", "moderate"] });
    expect(change.status).toBe(200);
    const after = await profile(bob.accessToken, before.headers.etag);
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.body).toMatchObject({ role: "moderator", permissions: ["chat", "moderate"] });
    // A permissions-only change changes it too.
    await request(t.url)
      .put(RestPath.adminRole(bob.user.id))
      .set("Authorization", `Bearer ${carol.accessToken}`)
      .send({ role: "moderator", permissions: ["chat"] });
    const again = await profile(bob.accessToken, after.headers.etag);
    expect(again.status).toBe(200);
  });

  it("refuses the role change to a non-admin with 403", async () => {
    const alice = await login(t.url, "alice");
    const res = await request(t.url).put(RestPath.adminRole(2)).set("Authorization", `Bearer ${alice.accessToken}`).send({ role: "admin" });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "forbidden", message: expect.any(String) } });
  });

  it("never gives two users with identical profile data the same ETag", async () => {
    const carol = await login(t.url, "carol");
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    // Make bob's visible data identical to alice's except what identifies him.
    const same = { displayName: "Same Name", bio: "same", avatarUrl: null, phone: null, email: "same@example.com" };
    await request(t.url).patch(RestPath.profileMe).set("Authorization", `Bearer ${alice.accessToken}`).send(same).expect(200);
    await request(t.url).patch(RestPath.profileMe).set("Authorization", `Bearer ${bob.accessToken}`).send(same).expect(200);
    await request(t.url)
      .put(RestPath.adminRole(bob.user.id))
      .set("Authorization", `Bearer ${carol.accessToken}`)
      .send({ role: "user", permissions: ["chat"] });
    const a = await profile(alice.accessToken);
    const b = await profile(bob.accessToken);
    expect(a.headers.etag).not.toBe(b.headers.etag);
    // Bob's ETag never validates Alice's cached copy.
    expect((await profile(bob.accessToken, a.headers.etag)).status).toBe(200);
  });

  it("PATCH validates the body and answers JSON errors", async () => {
    const alice = await login(t.url, "alice");
    const bad = await request(t.url).patch(RestPath.profileMe).set("Authorization", `Bearer ${alice.accessToken}`).send({ email: "not-an-email" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_body");
    const unknown = await request(t.url).patch(RestPath.profileMe).set("Authorization", `Bearer ${alice.accessToken}`).send({ role: "admin" });
    expect(unknown.status).toBe(400);
    const noAuth = await request(t.url).get(RestPath.profileMe);
    expect(noAuth.status).toBe(401);
    expect(noAuth.body.error.code).toBe("unauthorized");
  });

  it("serves a warm profile with 0 database queries", async () => {
    const alice = await login(t.url, "alice");
    await profile(alice.accessToken); // warm the cache
    const before = await t.server.metrics.dbQueries.get();
    for (let i = 0; i < 20; i++) await profile(alice.accessToken);
    const after = await t.server.metrics.dbQueries.get();
    expect(after.values[0]!.value - before.values[0]!.value).toBe(0);
  });

  it("falls back to the database when Redis is down (never a 500)", async () => {
    const alice = await login(t.url, "alice");
    await t.redis.kill("SIGKILL");
    try {
      const res = await profile(alice.accessToken);
      expect(res.status).toBe(200);
      expect(res.body.username).toBe("alice");
    } finally {
      await t.redis.restart();
    }
  });
});
