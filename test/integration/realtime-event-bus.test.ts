import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../../server/src/realtime/ports.js";
import { RedisEventBus } from "../../server/src/realtime/redis-event-bus.js";
import { RedisInstanceChannel } from "../../server/src/realtime/redis-instance-channel.js";
import type { RedisClient } from "../../server/src/realtime/redis-keys.js";
import { RedisOwnerRegistry } from "../../server/src/realtime/redis-owner-registry.js";
import { startRedisBackend, type RedisBackend, type RedisBackendKind } from "../helpers/redis-cluster.js";
import { until } from "../helpers/until.js";

interface Instance {
  id: string;
  client: RedisClient;
  channel: RedisInstanceChannel;
  owners: RedisOwnerRegistry;
  bus: RedisEventBus;
  received: { userId: number; stored: StoredEvent }[];
}

const stored = (seq: number): StoredEvent => ({ epoch: "e1", seq, event: { kind: "unread", count: seq } });

describe.each<RedisBackendKind>(["standalone", "cluster"])("RedisEventBus on %s Redis", (kind) => {
  let backend: RedisBackend;
  let instances: Instance[];

  beforeAll(async () => {
    backend = await startRedisBackend(kind);
    instances = await Promise.all(
      ["a", "b", "c"].map(async (name) => {
        const id = `bus-${name}`;
        const client = backend.client();
        const channel = new RedisInstanceChannel(client, id);
        await channel.start();
        const instance: Instance = {
          id,
          client,
          channel,
          owners: new RedisOwnerRegistry(client, channel),
          bus: new RedisEventBus(client, channel),
          received: [],
        };
        instance.bus.subscribe((userId, event) => instance.received.push({ userId, stored: event }));
        return instance;
      }),
    );
  });

  afterAll(async () => {
    for (const instance of instances ?? []) {
      await instance.bus.close();
      await instance.channel.close();
      instance.client.disconnect();
    }
    await backend?.stop();
  });

  it("delivers to the instance holding the user's socket only, and follows the socket when it moves", async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    await b.owners.claim({ userId: 1, connId: "s1", instanceId: b.id });
    await a.bus.publish(1, stored(1));
    await until(() => b.received.length === 1);
    expect(b.received).toEqual([{ userId: 1, stored: stored(1) }]);

    await c.owners.claim({ userId: 1, connId: "s2", instanceId: c.id });
    await a.bus.publish(1, stored(2));
    await until(() => c.received.length === 1);
    await sleep(50);
    expect(c.received).toEqual([{ userId: 1, stored: stored(2) }]);
    expect(b.received).toHaveLength(1);
    expect(a.received).toHaveLength(0);
  });

  it("publishes nothing for a user without a socket", async () => {
    const [a] = instances as [Instance];
    const before = instances.map((i) => i.received.length);
    await a.bus.publish(99, stored(1));
    await sleep(100);
    expect(instances.map((i) => i.received.length)).toEqual(before);
  });

  it("loses no live event: 3,000 events from three instances to users on all of them", async () => {
    for (const instance of instances) instance.received.length = 0;
    const users = [101, 102, 103];
    await Promise.all(users.map((userId, i) => instances[i]!.owners.claim({ userId, connId: `u${userId}`, instanceId: instances[i]!.id })));
    await Promise.all(Array.from({ length: 3000 }, (_, n) => instances[n % 3]!.bus.publish(users[n % users.length]!, stored(Math.floor(n / 3) + 1))));
    await until(() => instances.every((i) => i.received.length >= 1000));
    instances.forEach((instance, i) => {
      expect(instance.received).toHaveLength(1000);
      expect(new Set(instance.received.map((r) => r.userId))).toEqual(new Set([users[i]]));
      expect(new Set(instance.received.map((r) => r.stored.seq)).size).toBe(1000);
    });
  });
});
