import { RestPath } from "../../shared/protocol/index.js";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ClientFrameType, EventKind, ServerClose } from "../../shared/protocol/index.js";
import { api } from "../helpers/chat-client.js";
import { FollowingClient, deploymentForSuite, userToken } from "../helpers/cluster-deployment.js";
import { until } from "../helpers/until.js";

const OUTAGE_MS = 10_000;

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function status(url: string): Promise<number> {
  return fetch(url).then(
    (res) => res.status,
    () => 0,
  );
}

describe("Redis killed for 10 s under traffic", () => {
  const deployment = deploymentForSuite({ instances: 2, redis: "standalone" });

  it("no process exits, sockets stay up, the sender's own instance keeps delivering, and nothing sent after recovery is lost", async () => {
    const { servers, redis } = deployment();
    const wsUrls = () => servers.map((s) => s.wsUrl);
    const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((name) => userToken(servers[0]!.url, name)));
    // bob on instance 0; alice (the sender) and carol on instance 1.
    const bobClient = new FollowingClient(wsUrls, bob!.userId, bob!.token, 0);
    const carolClient = new FollowingClient(wsUrls, carol!.userId, carol!.token, 1);
    const sender = new FollowingClient(wsUrls, alice!.userId, alice!.token, 1);
    await Promise.all([bobClient.connect(), carolClient.connect(), sender.connect()]);

    let n = 0;
    let sending = true;
    let paused = false;
    const sent: { n: number; phase: string }[] = [];
    let phase = "before";
    const traffic = (async () => {
      while (sending) {
        if (paused) {
          await sleep(20);
          continue;
        }
        n += 1;
        sent.push({ n, phase });
        const to = n % 2 ? bob!.userId : carol!.userId;
        sender.send({ type: ClientFrameType.send, clientMsgId: `outage-${n}`, to, body: `${phase}:${n}` });
        await until(() => sender.inFlight === 0, 10_000);
        await sleep(10);
      }
    })();

    await until(() => sender.acked.size >= 50, 10_000);
    await redis!.kill();
    const killedAt = Date.now();
    expect(await until(async () => (await status(`${servers[0]!.url}/readyz`)) === 503 && (await status(`${servers[1]!.url}/readyz`)) === 503, 5000)).toBe(
      true,
    );
    phase = "during";

    // Degraded: alive, not ready, REST reads answered from the database.
    for (const server of servers) expect(await status(`${server.url}/healthz`)).toBe(200);
    const unread = await api<{ unread_count: number }>(servers[0]!.url, bob!.token, "GET", RestPath.unreadCount);
    expect(unread.status).toBe(200);
    expect(unread.body.unread_count).toBeGreaterThan(0);

    // Idle for 3 s without Redis: no busy loop while reconnecting.
    paused = true;
    await sleep(200);
    const cpuBefore = servers.map((s) => cpuSeconds(s.pid));
    await sleep(3000);
    const cpuUsed = servers.map((s, i) => cpuSeconds(s.pid) - cpuBefore[i]!);
    for (const used of cpuUsed) expect(used).toBeLessThan(1.5); // a busy loop would burn ~3 s
    paused = false;

    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - killedAt)));
    phase = "restarting";
    await redis!.restart();
    expect(await until(async () => (await status(`${servers[0]!.url}/readyz`)) === 200 && (await status(`${servers[1]!.url}/readyz`)) === 200, 20_000)).toBe(
      true,
    );
    phase = "after";
    const firstAfter = n + 1;
    await until(() => sent.filter((s) => s.phase === "after").length >= 100, 30_000);
    sending = false;
    await traffic;
    await until(() => sender.inFlight === 0, 10_000);
    const lastAfter = n;

    const bodies = (client: FollowingClient) => client.events.flatMap((f) => (f.event.kind === EventKind.message ? [f.event.message.body] : []));
    const expectedAfter = (parity: number) =>
      Array.from({ length: lastAfter - firstAfter + 1 }, (_, i) => firstAfter + i)
        .filter((k) => k % 2 === parity)
        .map((k) => `after:${k}`);
    await until(() => expectedAfter(1).every((b) => bodies(bobClient).includes(b)) && expectedAfter(0).every((b) => bodies(carolClient).includes(b)), 10_000);
    // Nothing sent after recovery is lost, across instances (bob) and on the sender's instance (carol), in order.
    expect(bodies(bobClient).filter((b) => b.startsWith("after:"))).toEqual(expectedAfter(1));
    expect(bodies(carolClient).filter((b) => b.startsWith("after:"))).toEqual(expectedAfter(0));
    // During the outage the sender's own instance kept delivering to carol.
    const carolDuring = sent.filter((s) => s.phase === "during" && s.n % 2 === 0).map((s) => `during:${s.n}`);
    expect(carolDuring.length).toBeGreaterThan(0);
    expect(bodies(carolClient).filter((b) => b.startsWith("during:"))).toEqual(carolDuring);
    // Every body at most once.
    for (const client of [bobClient, carolClient]) expect(new Set(bodies(client)).size).toBe(bodies(client).length);

    // No socket was dropped, no process exited or logged an unhandled rejection.
    expect(bobClient.connections + carolClient.connections + sender.connections).toBe(3);
    for (const server of servers) {
      expect(server.process.exitCode).toBeNull();
      expect(server.output()).not.toMatch(/unhandled rejection|uncaught/i);
    }
    await Promise.all([bobClient.stop(), carolClient.stop(), sender.stop()]);
  }, 120_000);

  it("SIGTERM while Redis is down still shuts down gracefully (1012 to sockets, exit 0)", async () => {
    const { servers, redis } = deployment();
    const bob = await userToken(servers[0]!.url, "bob");
    const client = new FollowingClient(() => [servers[0]!.wsUrl], bob.userId, bob.token, 0);
    await client.connect();
    await redis!.kill();
    expect(await until(async () => (await status(`${servers[0]!.url}/readyz`)) === 503, 5000)).toBe(true);
    const exit = await servers[0]!.kill("SIGTERM");
    expect(exit).toEqual({ code: 0, signal: null });
    expect(client.closes[0]).toEqual({ code: ServerClose.serviceRestart.code, reason: ServerClose.serviceRestart.reason });
    await client.stop();
    await redis!.restart();
  }, 60_000);
});
