import { describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, ServerClose } from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { deploymentForSuite } from "../helpers/cluster-deployment.js";
import type { RedisBackendKind } from "../helpers/redis-cluster.js";

// Two real server processes on one Redis and one Postgres: the instance that handles the logout
// is not the one holding the socket.
describe.each<RedisBackendKind>(["standalone", "cluster"])("logout on one instance ends the session on every instance (%s Redis)", (kind) => {
  const deployment = deploymentForSuite({ instances: 2, redis: kind });

  it("logout on A closes the socket held on B and B refuses the token at once", async () => {
    const [a, b] = deployment().servers;
    const session = await login(a!.url, "alice");
    const socket = await connectLive(b!.wsUrl, session);
    expect((await api(b!.url, session.accessToken, "GET", RestPath.profileMe)).status).toBe(200);

    const out = await fetch(`${a!.url}${RestPath.logout}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    });
    expect(out.status).toBe(204);

    expect(await socket.closed).toEqual(ServerClose.sessionEnded);
    const refused = await api<{ error: { code: string } }>(b!.url, session.accessToken, "GET", RestPath.profileMe);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe(RestErrorCode.sessionEnded);
    expect(await connectChat(b!.wsUrl, session.user.id, { token: session.accessToken }).closed).toEqual(ServerClose.sessionEnded);
  });

  it("log out everywhere on B closes the socket held on A", async () => {
    const [a, b] = deployment().servers;
    const first = await login(a!.url, "bob");
    const second = await login(b!.url, "bob");
    const socket = await connectLive(a!.wsUrl, first);
    expect((await api(b!.url, second.accessToken, "POST", RestPath.logoutAll)).status).toBe(204);
    expect(await socket.closed).toEqual(ServerClose.sessionEnded);
    expect((await api(a!.url, first.accessToken, "GET", RestPath.profileMe)).status).toBe(401);
    expect((await api(a!.url, second.accessToken, "GET", RestPath.profileMe)).status).toBe(401);
  });

  it("an instance started after the logout refuses the token too (revocations are loaded from Redis)", async () => {
    const { servers } = deployment();
    const [a, b] = servers;
    const session = await login(a!.url, "carol");
    const out = await fetch(`${a!.url}${RestPath.logout}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    });
    expect(out.status).toBe(204);
    await b!.kill("SIGTERM");
    await b!.restart();
    expect((await api(b!.url, session.accessToken, "GET", RestPath.profileMe)).status).toBe(401);
  });
});
