import { describe, expect, it } from "vitest";
import { RestPath, ServerClose } from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { deploymentForSuite } from "../helpers/cluster-deployment.js";
import { until } from "../helpers/until.js";

const status = (url: string) =>
  fetch(url).then(
    (res) => res.status,
    () => 0,
  );

// While Redis is down a revocation holds on the instance that made it; the others learn it (and
// close the session's sockets) as soon as Redis answers again — even a Redis that restarted empty.
describe("logout while Redis is down", () => {
  const deployment = deploymentForSuite({ instances: 2 });

  it("holds on the instance that logged out at once, and reaches the other instance after recovery", async () => {
    const { servers, redis } = deployment();
    const [a, b] = servers;
    const session = await login(a!.url, "alice");
    const socketOnA = await connectLive(a!.wsUrl, session);

    await redis!.kill();
    expect(await until(async () => (await status(`${a!.url}/readyz`)) === 503 && (await status(`${b!.url}/readyz`)) === 503, 10_000)).toBe(true);

    const out = await fetch(`${a!.url}${RestPath.logout}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    });
    expect(out.status).toBe(204);
    expect(await socketOnA.closed).toEqual(ServerClose.sessionEnded);
    expect((await api(a!.url, session.accessToken, "GET", RestPath.profileMe)).status).toBe(401);
    expect(await connectChat(a!.wsUrl, session.user.id, { token: session.accessToken }).closed).toEqual(ServerClose.sessionEnded);
    // Documented gap: B cannot hear of it while Redis is away (a socket may be opened there meanwhile).
    const socketOnB = await connectLive(b!.wsUrl, session);

    await redis!.restart();
    expect(await until(async () => (await status(`${a!.url}/readyz`)) === 200 && (await status(`${b!.url}/readyz`)) === 200, 20_000)).toBe(true);
    expect(await socketOnB.closed).toEqual(ServerClose.sessionEnded);
    expect(await until(async () => (await api(b!.url, session.accessToken, "GET", RestPath.profileMe)).status === 401, 5000)).toBe(true);
  }, 60_000);
});
