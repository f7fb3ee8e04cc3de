import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, type RestError } from "../../shared/protocol/index.js";
import { loginFrom } from "../helpers/http-from-address.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";
import { startRedisCluster, type LocalRedisCluster } from "../helpers/redis-cluster.js";

describe("login limits on a 3-master Redis Cluster shared by two instances", () => {
  let cluster: LocalRedisCluster;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    const node = cluster.nodes[0]!;
    const env = { REDIS_URL: `redis://${node.host}:${node.port}`, REDIS_CLUSTER: "true", LOGIN_MAX_FAILURES_PER_USER_IP: "3", LOGIN_MAX_FAILURES_PER_IP: "50" };
    [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await cluster?.stop();
  });

  it("counts every client's failures on either instance against the same limits", async () => {
    const clients = Array.from({ length: 6 }, (_, index) => `127.0.3.${index + 1}`);
    for (const address of clients) {
      expect((await loginFrom(address, first.url, "alice", "x", RestPath.login)).status).toBe(401);
      expect((await loginFrom(address, second.url, "alice", "y", RestPath.login)).status).toBe(401);
      expect((await loginFrom(address, first.url, "alice", "z", RestPath.login)).status).toBe(401);
      const refused = await loginFrom(address, second.url, "alice", "demo", RestPath.login);
      expect(refused.status).toBe(429);
      expect(refused.json<RestError>().error.code).toBe(RestErrorCode.rateLimited);
    }
    expect((await loginFrom("127.0.3.100", first.url, "alice", "demo", RestPath.login)).status).toBe(200);
  });
});
