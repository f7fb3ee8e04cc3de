import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisRealtime, type RedisRealtime } from "../../server/src/realtime/redis-realtime.js";
import type { StoredEvent } from "../../server/src/realtime/ports.js";
import { startRedisCluster, type LocalRedisCluster } from "../helpers/redis-cluster.js";
import { until } from "../helpers/until.js";

const config = { historyMaxLen: 1000, historyMaxAgeS: 3600, resumeMaxEvents: 100 };

describe("createRedisRealtime on a 3-master Redis Cluster", () => {
  let cluster: LocalRedisCluster;
  const clients: Cluster[] = [];
  const instances: { id: string; realtime: RedisRealtime; received: StoredEvent[]; replaced: string[] }[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    for (const id of ["cl-a", "cl-b"]) {
      const client = cluster.client();
      clients.push(client);
      const realtime = await createRedisRealtime({ redis: client, instanceId: id, config });
      const instance = { id, realtime, received: [] as StoredEvent[], replaced: [] as string[] };
      realtime.bus.subscribe((_, stored) => instance.received.push(stored));
      realtime.owners.onReplaced((userId, connId) => instance.replaced.push(`${userId}:${connId}`));
      instances.push(instance);
    }
  });

  afterAll(async () => {
    for (const { realtime } of instances) await realtime.close();
    for (const client of clients) client.disconnect();
    await cluster?.stop();
  });

  it("is up, replaces across instances and delivers every user's events in order, users spread over all masters", async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    expect(a.realtime.health.isUp() && b.realtime.health.isUp()).toBe(true);
    const users = Array.from({ length: 30 }, (_, i) => 500 + i);
    for (const userId of users) await a.realtime.owners.claim({ userId, connId: `a${userId}`, instanceId: a.id });
    await Promise.all(users.map((userId) => b.realtime.owners.claim({ userId, connId: `b${userId}`, instanceId: b.id })));
    expect(await until(() => a.replaced.length === users.length)).toBe(true);

    for (let n = 1; n <= 5; n++) {
      for (const userId of users) {
        const stored = await a.realtime.eventLog.append(userId, { kind: "unread", count: n });
        await a.realtime.bus.publish(userId, stored);
      }
    }
    expect(await until(() => b.received.length === users.length * 5)).toBe(true);
    for (const userId of users) {
      const head = await b.realtime.eventLog.head(userId);
      expect(head.seq).toBe(5);
      const replay = await b.realtime.eventLog.since(userId, { epoch: head.epoch, seq: 0 }, 100);
      expect(replay.events.map((e) => e.event)).toEqual([1, 2, 3, 4, 5].map((count) => ({ kind: "unread", count })));
    }
    // The users' keys really are spread over the three masters.
    const sizes = await Promise.all(clients[0]!.nodes("master").map((node) => node.dbsize()));
    expect(sizes.filter((size) => size > 0)).toHaveLength(3);
  });
});
