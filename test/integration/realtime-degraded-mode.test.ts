import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatEvent } from "../../shared/protocol/index.js";
import { createRedisRealtime, type RedisRealtime } from "../../server/src/realtime/redis-realtime.js";
import type { StoredEvent } from "../../server/src/realtime/ports.js";
import { ownerKey } from "../../server/src/realtime/redis-keys.js";
import { startLocalRedis, type LocalRedisServer } from "../../server/src/redis/local-redis-server.js";
import { until } from "../helpers/until.js";

/** Outage and recovery take a few probe rounds: allow 10 s. */
const waitFor = (condition: () => boolean) => until(condition, 10_000);

const config = { historyMaxLen: 1000, historyMaxAgeS: 3600, resumeMaxEvents: 500 };
const unread = (count: number): ChatEvent => ({ kind: "unread", count });

interface Instance {
  id: string;
  client: Redis;
  realtime: RedisRealtime;
  received: { userId: number; stored: StoredEvent }[];
  replaced: string[];
}

describe("createRedisRealtime: degraded mode while Redis is away, recovery without a restart", () => {
  let redis: LocalRedisServer;
  let inspector: Redis;
  let instances: [Instance, Instance];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onRejection);
    redis = await startLocalRedis();
    inspector = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    inspector.on("error", () => {});
  });

  beforeEach(async () => {
    await inspector.flushall();
    const start = async (id: string): Promise<Instance> => {
      // The options the server uses for its own client: fail fast, reconnect forever, gently.
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 100 });
      client.on("error", () => {});
      const realtime = await createRedisRealtime({ redis: client, instanceId: id, config, probeIntervalMs: 100, callTimeoutMs: 500 });
      const instance: Instance = { id, client, realtime, received: [], replaced: [] };
      realtime.bus.subscribe((userId, stored) => instance.received.push({ userId, stored }));
      realtime.owners.onReplaced((userId, connId) => instance.replaced.push(`${userId}:${connId}`));
      return instance;
    };
    instances = [await start("deg-a"), await start("deg-b")];
    expect(instances.every((i) => i.realtime.health.isUp())).toBe(true);
  });

  afterEach(async () => {
    for (const instance of instances) {
      await instance.realtime.close();
      instance.client.disconnect();
    }
  });

  afterAll(async () => {
    process.off("unhandledRejection", onRejection);
    inspector?.disconnect();
    await redis?.stop();
  });

  const publish = async (instance: Instance, userId: number, event: ChatEvent) => {
    const stored = await instance.realtime.eventLog.append(userId, event);
    await instance.realtime.bus.publish(userId, stored);
    return stored;
  };

  it("with Redis up, replaces and delivers across instances", async () => {
    const [a, b] = instances;
    await a.realtime.owners.claim({ userId: 1, connId: "a1", instanceId: a.id });
    const claim = await b.realtime.owners.claim({ userId: 1, connId: "b1", instanceId: b.id });
    expect(claim).toEqual({ generation: 2, previous: { instanceId: a.id, connId: "a1" } });
    expect(await waitFor(() => a.replaced.length === 1)).toBe(true);
    expect(a.replaced).toEqual(["1:a1"]);
    const stored = await publish(a, 1, unread(3));
    expect(await waitFor(() => b.received.length === 1)).toBe(true);
    expect(b.received).toEqual([{ userId: 1, stored }]);
  });

  it("Redis killed: every call still answers from the fallbacks; restarted empty: owner records come back and cross-instance delivery resumes", async () => {
    const [a, b] = instances;
    await a.realtime.owners.claim({ userId: 5, connId: "a5", instanceId: a.id });
    await b.realtime.owners.claim({ userId: 6, connId: "b6", instanceId: b.id });
    const before = await a.realtime.eventLog.append(5, unread(1));

    await redis.kill();
    expect(await waitFor(() => instances.every((i) => i.realtime.health.state === "down"))).toBe(true);

    // Own sockets keep receiving what this instance produces.
    const during = await publish(a, 5, unread(2));
    expect(during.epoch).not.toBe(before.epoch);
    expect(a.received.map((r) => r.stored)).toEqual([during]);
    const claim = await b.realtime.owners.claim({ userId: 7, connId: "b7", instanceId: b.id });
    expect(claim.previous).toBeNull();
    expect(await a.realtime.eventLog.since(5, { epoch: before.epoch, seq: 1 }, 10)).toMatchObject({ recovered: false });
    expect(await b.realtime.owners.release(6, "not-b6")).toBe(false);

    await sleep(1000); // a while without Redis: probes run on a timer, nothing spins
    await redis.restart();
    expect(await waitFor(() => instances.every((i) => i.realtime.health.isUp()))).toBe(true);

    expect(await inspector.hmget(ownerKey(5), "inst", "conn")).toEqual([a.id, "a5"]);
    expect(await inspector.hmget(ownerKey(6), "inst", "conn")).toEqual([b.id, "b6"]);
    expect(await inspector.hmget(ownerKey(7), "inst", "conn")).toEqual([b.id, "b7"]);
    // Generations continue above what was handed out before the outage.
    const next = await a.realtime.owners.claim({ userId: 7, connId: "a7", instanceId: a.id });
    expect(next.generation).toBeGreaterThan(claim.generation);
    expect(await waitFor(() => b.replaced.includes("7:b7"))).toBe(true);

    const after = await publish(b, 5, unread(3));
    expect(await waitFor(() => a.received.length === 2)).toBe(true);
    expect(a.received[1]!.stored).toEqual(after);
    expect(after.epoch).not.toBe(during.epoch);
    expect(rejections).toEqual([]);
  });

  it("Redis frozen (calls time out): falls back, and on recovery restarts the histories that diverged", async () => {
    const [a] = instances;
    await a.realtime.owners.claim({ userId: 8, connId: "a8", instanceId: a.id });
    const before = await a.realtime.eventLog.append(8, unread(1));
    redis.process.kill("SIGSTOP");
    try {
      const during = await a.realtime.eventLog.append(8, unread(2)); // times out after callTimeoutMs, served in process
      expect(during.epoch).not.toBe(before.epoch);
      expect(a.realtime.health.isUp()).toBe(false);
    } finally {
      redis.process.kill("SIGCONT");
    }
    expect(await waitFor(() => a.realtime.health.isUp())).toBe(true);
    // Redis kept its data, but seq 2 never reached it: a client resuming from seq 1 must refetch.
    const replay = await a.realtime.eventLog.since(8, { epoch: before.epoch, seq: 1 }, 10);
    expect(replay.recovered).toBe(false);
    expect(replay.head.epoch).not.toBe(before.epoch);
    expect(rejections).toEqual([]);
  });

  it("a user who connected to both instances during the outage keeps exactly one socket after it", async () => {
    const [a, b] = instances;
    await redis.kill();
    expect(await waitFor(() => instances.every((i) => i.realtime.health.state === "down"))).toBe(true);
    await a.realtime.owners.claim({ userId: 9, connId: "a9", instanceId: a.id });
    await b.realtime.owners.claim({ userId: 9, connId: "b9", instanceId: b.id });
    await redis.restart();
    expect(await waitFor(() => instances.every((i) => i.realtime.health.isUp()))).toBe(true);
    const [inst, conn] = await inspector.hmget(ownerKey(9), "inst", "conn");
    const loser = inst === a.id ? b : a;
    expect(await waitFor(() => loser.replaced.length === 1)).toBe(true);
    expect(loser.replaced).toEqual([`9:${loser === a ? "a9" : "b9"}`]);
    expect(conn).toBe(loser === a ? "b9" : "a9");
    expect((inst === a.id ? a : b).replaced).toEqual([]);
  });
});
