import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, type RestError } from "../../shared/protocol/index.js";
import { loginFrom } from "../helpers/http-from-address.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";
import { startLocalRedis, type LocalRedisServer } from "../helpers/redis.js";

describe("login limits across instances sharing one Redis", () => {
  let redis: LocalRedisServer;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    redis = await startLocalRedis();
    const env = { REDIS_URL: redis.url, LOGIN_MAX_FAILURES_PER_USER_IP: "4", LOGIN_MAX_FAILURES_PER_IP: "50" };
    [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await redis?.stop();
  });

  it("counts failures on either instance against the same limit", async () => {
    const attacker = "127.0.0.7";
    // Alternate instances, as a load balancer would.
    for (const [index, server] of [first, second, first, second].entries()) {
      expect((await loginFrom(attacker, server.url, "alice", `wrong-${index}`, RestPath.login)).status).toBe(401);
    }
    for (const server of [first, second]) {
      const refused = await loginFrom(attacker, server.url, "alice", "wrong", RestPath.login);
      expect(refused.status).toBe(429);
      expect(refused.json<RestError>().error.code).toBe(RestErrorCode.rateLimited);
    }
    expect((await loginFrom("127.0.0.8", second.url, "alice", "demo", RestPath.login)).status).toBe(200);
  });
});
