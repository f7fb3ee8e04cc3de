import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_AFTER_HEADER, RestErrorCode, RestPath, type RestError } from "../../shared/protocol/index.js";
import { loginFrom } from "../helpers/http-from-address.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";
import { until } from "../helpers/until.js";

describe("login limits while the server's Redis is down", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ LOGIN_MAX_FAILURES_PER_USER_IP: "3", LOGIN_MAX_FAILURES_PER_IP: "50" });
  });
  afterAll(async () => server?.stop());

  it("still limits (counted in memory), answers every attempt and keeps the process up", async () => {
    await server.redis.kill("SIGKILL");
    expect(await until(() => server.server.redis.status !== "ready", 5000)).toBe(true);
    const attacker = "127.0.0.9";
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await loginFrom(attacker, server.url, "bob", `wrong-${attempt}`, RestPath.login)).status).toBe(401);
    }
    const refused = await loginFrom(attacker, server.url, "bob", "wrong", RestPath.login);
    expect(refused.status).toBe(429);
    expect(refused.json<RestError>().error.code).toBe(RestErrorCode.rateLimited);
    expect(Number(refused.headers[RETRY_AFTER_HEADER.toLowerCase()])).toBeGreaterThan(0);
    expect((await loginFrom("127.0.0.10", server.url, "bob", "demo", RestPath.login)).status).toBe(200);
    expect((await fetch(`${server.url}${RestPath.healthz}`)).status).toBe(200);
  });
});
