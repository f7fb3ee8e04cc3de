import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisInstanceChannel } from "../../server/src/realtime/redis-instance-channel.js";
import type { RedisClient } from "../../server/src/realtime/redis-keys.js";
import { RedisOwnerRegistry } from "../../server/src/realtime/redis-owner-registry.js";
import { startRedisBackend, type RedisBackend, type RedisBackendKind } from "../helpers/redis-cluster.js";
import { until } from "../helpers/until.js";

interface Instance {
  id: string;
  client: RedisClient;
  channel: RedisInstanceChannel;
  registry: RedisOwnerRegistry;
}

async function startInstance(backend: RedisBackend, id: string): Promise<Instance> {
  const client = backend.client();
  const channel = new RedisInstanceChannel(client, id);
  await channel.start();
  return { id, client, channel, registry: new RedisOwnerRegistry(client, channel) };
}

describe.each<RedisBackendKind>(["standalone", "cluster"])("RedisOwnerRegistry on %s Redis", (kind) => {
  let backend: RedisBackend;
  let instances: Instance[];

  beforeAll(async () => {
    backend = await startRedisBackend(kind);
    instances = await Promise.all(["a", "b", "c"].map((id) => startInstance(backend, `inst-${id}`)));
  });

  afterAll(async () => {
    for (const instance of instances ?? []) {
      await instance.registry.close();
      await instance.channel.close();
      instance.client.disconnect();
    }
    await backend?.stop();
  });

  it("50 concurrent connects for one user over three instances end with exactly one open socket", async () => {
    const userId = 4242;
    // What each instance has open, the way the socket server tracks it: a socket is registered
    // before its claim is sent, closed on a same-instance `previous` or on a replaced notice.
    const open = new Map<string, Set<string>>(instances.map((i) => [i.id, new Set<string>()]));
    const unsubscribers = instances.map((instance) =>
      instance.registry.onReplaced((user, connId) => {
        if (user === userId) open.get(instance.id)!.delete(connId);
      }),
    );
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const instance = instances[i % instances.length]!;
        const connId = `conn-${i}`;
        open.get(instance.id)!.add(connId);
        const result = await instance.registry.claim({ userId, connId, instanceId: instance.id });
        if (result.previous?.instanceId === instance.id) open.get(instance.id)!.delete(result.previous.connId);
        return { connId, ...result };
      }),
    );
    const generations = results.map((r) => r.generation).sort((a, b) => a - b);
    expect(generations).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const winner = results.find((r) => r.generation === 50)!;
    const owner = await instances[0]!.registry.current(userId);
    expect(owner).toMatchObject({ connId: winner.connId, generation: 50 });
    // Every connection but the winner is somebody's `previous`, exactly once.
    const previous = results.flatMap((r) => (r.previous ? [r.previous.connId] : [])).sort();
    expect(previous).toEqual(
      results
        .map((r) => r.connId)
        .filter((c) => c !== winner.connId)
        .sort(),
    );

    const openCount = () => [...open.values()].reduce((n, set) => n + set.size, 0);
    await until(() => openCount() === 1);
    expect(openCount()).toBe(1);
    expect([...open.values()].find((set) => set.size === 1)).toEqual(new Set([winner.connId]));
    for (const unsubscribe of unsubscribers) unsubscribe();
  });

  it("release removes the owner record only if it is still the caller's", async () => {
    const [a, b] = instances as [Instance, Instance];
    await a.registry.claim({ userId: 7, connId: "old", instanceId: a.id });
    await b.registry.claim({ userId: 7, connId: "new", instanceId: b.id });
    expect(await a.registry.release(7, "old")).toBe(false);
    expect(await a.registry.current(7)).toMatchObject({ connId: "new", instanceId: b.id });
    expect(await b.registry.release(7, "new")).toBe(true);
    expect(await a.registry.current(7)).toBeNull();
    expect(await b.registry.release(7, "new")).toBe(false);
  });

  it("generation keeps increasing per user across instances and releases", async () => {
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const instance = instances[i % 3]!;
      const { generation } = await instance.registry.claim({ userId: 9, connId: `c${i}`, instanceId: instance.id });
      seen.push(generation);
      if (i % 2 === 0) await instance.registry.release(9, `c${i}`);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("tells only the previous owner's instance, and stops telling after unsubscribe", async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const heard: string[] = [];
    // Notices of the earlier tests may still be in flight: listen to this test's users only.
    const record = (name: string) => (userId: number, connId: string) => {
      if (userId === 11 || userId === 12) heard.push(`${name}:${userId}:${connId}`);
    };
    const stopA = a.registry.onReplaced(record("a"));
    const stopC = c.registry.onReplaced(record("c"));
    await a.registry.claim({ userId: 11, connId: "first", instanceId: a.id });
    const result = await b.registry.claim({ userId: 11, connId: "second", instanceId: b.id });
    expect(result.previous).toEqual({ instanceId: a.id, connId: "first" });
    await until(() => heard.length > 0);
    expect(heard).toEqual(["a:11:first"]);

    stopA();
    await a.registry.claim({ userId: 12, connId: "x", instanceId: a.id });
    await c.registry.claim({ userId: 12, connId: "y", instanceId: c.id });
    await b.registry.claim({ userId: 12, connId: "z", instanceId: b.id });
    await until(() => heard.length > 1);
    await sleep(50);
    expect(heard).toEqual(["a:11:first", "c:12:y"]);
    stopC();
  });

  it("adopt puts a record back only where no other connection owns the user", async () => {
    const [a, b] = instances as [Instance, Instance];
    expect(await a.registry.adopt(21, "kept", a.id, 5)).toBe(true);
    expect(await a.registry.current(21)).toEqual({ instanceId: a.id, connId: "kept", generation: 5 });
    expect(await b.registry.adopt(21, "other", b.id, 3)).toBe(false);
    const next = await b.registry.claim({ userId: 21, connId: "later", instanceId: b.id });
    expect(next.generation).toBe(6);
  });
});
