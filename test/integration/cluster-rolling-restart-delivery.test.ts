import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { ClientFrameType, EventKind, ServerClose } from "../../shared/protocol/index.js";
import { ownerKey } from "../../server/src/realtime/redis-keys.js";
import { FollowingClient, deploymentForSuite, userToken } from "../helpers/cluster-deployment.js";
import type { RedisBackendKind } from "../helpers/redis-cluster.js";
import { until } from "../helpers/until.js";

const MESSAGES = 2000;

describe.each<RedisBackendKind>(["standalone", "cluster"])("rolling restart under traffic (%s Redis)", (kind) => {
  // One sender sends 2,000 messages back to back, far over a person's send budget: unlimited here.
  const deployment = deploymentForSuite({ instances: 3, redis: kind, env: { RATE_LIMIT_SEND_PER_S: "0" } });

  it(`the recipient sees all ${MESSAGES} messages in order, once, while its instance is restarted twice`, async () => {
    const { servers } = deployment();
    const wsUrls = () => servers.map((s) => s.wsUrl);
    const alice = await userToken(servers[0]!.url, "alice");
    const bob = await userToken(servers[0]!.url, "bob");
    const recipient = new FollowingClient(wsUrls, bob.userId, bob.token, 0);
    const sender = new FollowingClient(wsUrls, alice.userId, alice.token, 2);
    await recipient.connect();
    await sender.connect();

    // Rolling deploy: restart the recipient's instance, then (once it is back) its new one.
    const restarts: { index: number; exit: { code: number | null; signal: NodeJS.Signals | null } }[] = [];
    let secondRestartBegun = false;
    const deploy = (async () => {
      for (const threshold of [300, 1000]) {
        await until(() => sender.acked.size >= threshold, 60_000);
        const index = recipient.instanceIndex % servers.length;
        if (threshold === 1000) secondRestartBegun = true;
        const exit = await servers[index]!.kill("SIGTERM");
        restarts.push({ index, exit });
        await servers[index]!.restart();
      }
    })();

    // One send at a time (the next after the previous ack), so "in order" means the order sent;
    // pipelined sends from one socket are handled concurrently and may be stored in another order.
    for (let n = 1; n <= MESSAGES; n++) {
      while (sender.inFlight > 0) await sleep(1);
      // Keep streaming until the second restart is under way, however fast this machine is.
      if (n === 1500) await until(() => secondRestartBegun, 60_000);
      sender.send({ type: ClientFrameType.send, clientMsgId: `rolling-${n}`, to: bob.userId, body: String(n) });
    }
    await deploy;
    await until(() => sender.acked.size === MESSAGES, 30_000);
    expect(sender.acked.size).toBe(MESSAGES);

    const received = () =>
      recipient.events.filter((f) => f.event.kind === EventKind.message).map((f) => (f.event.kind === EventKind.message ? Number(f.event.message.body) : 0));
    await until(() => received().length >= MESSAGES, 30_000);
    await sleep(300); // a duplicate would arrive now
    const bodies = received();
    expect(bodies.length).toBe(MESSAGES);
    expect(bodies).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    expect(recipient.resumedFalse).toBe(0);
    // At the protocol level too: one epoch, seqs contiguous (every event once, none skipped).
    expect(new Set(recipient.events.map((f) => f.epoch)).size).toBe(1);
    recipient.events.forEach((frame, i) => {
      expect(frame.seq).toBe(recipient.events[0]!.seq + i);
    });

    expect(restarts).toHaveLength(2);
    expect(restarts[0]!.index).not.toBe(restarts[1]!.index);
    for (const { exit } of restarts) expect(exit).toEqual({ code: 0, signal: null });
    expect(recipient.closes.filter((c) => c.code === ServerClose.serviceRestart.code && c.reason === ServerClose.serviceRestart.reason)).toHaveLength(2);
    expect(recipient.connections).toBe(3);
    await recipient.stop();
    await sender.stop();

    // Closed sockets released their owner records (only their own).
    const { redis, cluster } = deployment();
    const inspector = cluster ? cluster.client() : new Redis(redis!.url);
    try {
      const owned = async () => (await Promise.all([alice, bob].map((u) => inspector.hget(ownerKey(u.userId), "conn")))).filter(Boolean).length;
      expect(await until(async () => (await owned()) === 0, 5000)).toBe(true);
    } finally {
      inspector.disconnect();
    }
  }, 120_000);
});
