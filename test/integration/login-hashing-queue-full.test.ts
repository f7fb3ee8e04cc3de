import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_AFTER_HEADER, RestErrorCode, RestPath, type RestError } from "../../shared/protocol/index.js";
import { loginFrom } from "../helpers/http-from-address.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

describe("password checks beyond the hashing queue", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      PASSWORD_HASH_CONCURRENCY: "1",
      PASSWORD_HASH_QUEUE_MAX: "2",
      LOGIN_MAX_FAILURES_PER_USER_IP: "1000",
      LOGIN_MAX_FAILURES_PER_IP: "1000",
    });
  });
  afterAll(async () => server?.stop());

  it("are refused with 503 unavailable and Retry-After instead of queueing without bound; the queue drains", async () => {
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, index) => loginFrom(`127.0.2.${index + 1}`, server.url, "alice", `guess-${index}`, RestPath.login)),
    );
    const busy = burst.filter((res) => res.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const res of busy) {
      expect(res.json<RestError>().error.code).toBe(RestErrorCode.unavailable);
      expect(res.headers[RETRY_AFTER_HEADER.toLowerCase()]).toBe("1");
    }
    expect(burst.filter((res) => res.status === 401).length).toBeGreaterThanOrEqual(3);
    expect(burst.every((res) => res.status === 401 || res.status === 503)).toBe(true);
    // Once the burst is over the right password works again at once.
    expect((await loginFrom("127.0.2.100", server.url, "alice", "demo", RestPath.login)).status).toBe(200);
    await expect(server.server.metrics.passwordHashesQueued.get()).resolves.toMatchObject({ values: [{ value: 0 }] });
  });
});
