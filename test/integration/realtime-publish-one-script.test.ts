import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent } from "../../shared/protocol/index.js";
import { createRedisRealtime, type RedisRealtime } from "../../server/src/realtime/redis-realtime.js";
import type { StoredEvent } from "../../server/src/realtime/ports.js";
import { startLocalRedis } from "../../server/src/redis/local-redis-server.js";
import { startRedisBackend, type RedisBackend, type RedisBackendKind } from "../helpers/redis-cluster.js";
import { until } from "../helpers/until.js";

const config = { historyMaxLen: 1000, historyMaxAgeS: 3600, resumeMaxEvents: 500 };
const message = (body: string): ChatEvent => ({
  kind: "message",
  message: { id: 1, from: 1, to: 2, body, clientMsgId: null, createdAt: new Date(0).toISOString(), readAt: null },
});

/** `Realtime.publish`: history append + owner-routed PUBLISH in one script (what the server uses per event). */
describe.each<RedisBackendKind>(["standalone", "cluster"])("realtime publish in one script on %s Redis", (kind) => {
  let backend: RedisBackend;
  const clients: ReturnType<RedisBackend["client"]>[] = [];
  let a: RedisRealtime;
  let b: RedisRealtime;
  const receivedByB: { userId: number; stored: StoredEvent }[] = [];
  const receivedByA: { userId: number; stored: StoredEvent }[] = [];

  beforeAll(async () => {
    backend = await startRedisBackend(kind);
    clients.push(backend.client(), backend.client());
    a = await createRedisRealtime({ redis: clients[0]!, instanceId: `one-${kind}-0`, config });
    b = await createRedisRealtime({ redis: clients[1]!, instanceId: `one-${kind}-1`, config });
    a.bus.subscribe((userId, stored) => receivedByA.push({ userId, stored }));
    b.bus.subscribe((userId, stored) => receivedByB.push({ userId, stored }));
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const client of clients) client.disconnect();
    await backend?.stop();
  });

  it("appends with the next seq and delivers exactly that stored event to the owner's instance only, in order", async () => {
    const userId = 4242;
    await b.owners.claim({ userId, connId: "b-conn", instanceId: `one-${kind}-1` });
    const published = await Promise.all(["x", 'y "quoted" \\ ünïcode', "z"].map((body) => a.publish(userId, message(body))));
    expect(published.map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(await until(() => receivedByB.length === 3, 5000)).toBe(true);
    expect(receivedByB).toEqual(published.map((stored) => ({ userId, stored })));
    expect(receivedByA).toEqual([]);
    const history = await b.eventLog.since(userId, { epoch: published[0]!.epoch, seq: 0 }, 10);
    expect(history).toMatchObject({ recovered: true, events: published });
  });

  it("a user with no socket anywhere: stored in the history, published nowhere", async () => {
    const before = receivedByA.length + receivedByB.length;
    const stored = await a.publish(777, message("nobody home"));
    expect(stored.seq).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(receivedByA.length + receivedByB.length).toBe(before);
    expect((await a.eventLog.since(777, { epoch: stored.epoch, seq: 0 }, 10)).events).toEqual([stored]);
  });
});

describe("realtime publish while Redis is down", () => {
  it("falls back to the in-process history and this instance's own sockets", async () => {
    const redis = await startLocalRedis();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 100 });
    client.on("error", () => {});
    const realtime = await createRedisRealtime({ redis: client, instanceId: "one-down", config, probeIntervalMs: 100, callTimeoutMs: 500 });
    const received: StoredEvent[] = [];
    realtime.bus.subscribe((_, stored) => received.push(stored));
    try {
      await redis.stop();
      expect(await until(() => !realtime.health.isUp(), 5000)).toBe(true);
      const stored = await realtime.publish(5, message("during the outage"));
      expect(received).toEqual([stored]);
      expect((await realtime.eventLog.since(5, { epoch: stored.epoch, seq: 0 }, 10)).events).toEqual([stored]);
    } finally {
      await realtime.close();
      client.disconnect();
    }
  });
});
