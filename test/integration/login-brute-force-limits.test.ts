import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_AFTER_HEADER, RestErrorCode, RestPath, type LoginResponse, type RestError } from "../../shared/protocol/index.js";
import { loginFrom } from "../helpers/http-from-address.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

const PER_USER_IP = 3;
const PER_IP = 6;

describe("login brute-force limits (real server, real Redis)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      LOGIN_MAX_FAILURES_PER_USER_IP: String(PER_USER_IP),
      LOGIN_USER_IP_WINDOW_S: "600",
      LOGIN_MAX_FAILURES_PER_IP: String(PER_IP),
      LOGIN_IP_WINDOW_S: "1200",
    });
  });
  afterAll(async () => server?.stop());

  it("refuses a username+IP pair with 429 and Retry-After after the limit; the real user still logs in from another address", async () => {
    const attacker = "127.0.0.2";
    for (let attempt = 1; attempt <= PER_USER_IP; attempt += 1) {
      const res = await loginFrom(attacker, server.url, "alice", `wrong-${attempt}`, RestPath.login);
      expect(res.status).toBe(401);
    }
    const refused = await loginFrom(attacker, server.url, "alice", "wrong-again", RestPath.login);
    expect(refused.status).toBe(429);
    expect(refused.json<RestError>().error.code).toBe(RestErrorCode.rateLimited);
    const retryAfter = Number(refused.headers[RETRY_AFTER_HEADER.toLowerCase()]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // Even the right password waits, from the attacking address: the guess is not checked at all.
    expect((await loginFrom(attacker, server.url, "alice", "demo", RestPath.login)).status).toBe(429);
    // Case does not open a fresh counter.
    expect((await loginFrom(attacker, server.url, "ALICE", "wrong", RestPath.login)).status).toBe(429);

    const victim = await loginFrom("127.0.0.3", server.url, "alice", "demo", RestPath.login);
    expect(victim.status).toBe(200);
    expect(victim.json<LoginResponse>().user.username).toBe("alice");
    // Another user from the attacking address is not blocked by alice's counter.
    expect((await loginFrom(attacker, server.url, "bob", "demo", RestPath.login)).status).toBe(200);
  });

  it("refuses an address that tries many usernames once the per-IP limit is reached", async () => {
    const sprayer = "127.0.0.4";
    for (let attempt = 1; attempt <= PER_IP; attempt += 1) {
      const res = await loginFrom(sprayer, server.url, `nobody-${attempt}`, "guess", RestPath.login);
      expect(res.status).toBe(401);
    }
    const refused = await loginFrom(sprayer, server.url, "carol", "demo", RestPath.login);
    expect(refused.status).toBe(429);
    expect(refused.json<RestError>().error.code).toBe(RestErrorCode.rateLimited);
    expect(Number(refused.headers[RETRY_AFTER_HEADER.toLowerCase()])).toBeGreaterThan(600);
    expect((await loginFrom("127.0.0.5", server.url, "carol", "demo", RestPath.login)).status).toBe(200);
  });

  it("forgets a pair's failures after the right password", async () => {
    const address = "127.0.0.6";
    for (let attempt = 1; attempt < PER_USER_IP; attempt += 1) {
      expect((await loginFrom(address, server.url, "bob", "typo", RestPath.login)).status).toBe(401);
    }
    expect((await loginFrom(address, server.url, "bob", "demo", RestPath.login)).status).toBe(200);
    for (let attempt = 1; attempt < PER_USER_IP; attempt += 1) {
      expect((await loginFrom(address, server.url, "bob", "typo", RestPath.login)).status).toBe(401);
    }
    expect((await loginFrom(address, server.url, "bob", "demo", RestPath.login)).status).toBe(200);
  });

  it("keeps the counters in Redis, with the username hashed", async () => {
    const keys = await server.server.redis.keys("sb:login:*");
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(" ")).not.toMatch(/alice|nobody/i);
  });
});
