import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent } from "../../shared/protocol/index.js";
import { RedisEventLog } from "../../server/src/realtime/redis-event-log.js";
import { historyMetaKey, historyStreamKey, instanceChannel, ownerKey, type RedisClient } from "../../server/src/realtime/redis-keys.js";
import { startRedisBackend, type RedisBackend, type RedisBackendKind } from "../helpers/redis-cluster.js";

// An event for a user whose socket is on the publishing instance comes back in the script's reply
// for local delivery; only an event for a socket elsewhere costs a PUBLISH (and a decode there).

const unread = (count: number): ChatEvent => ({ kind: "unread", count });

describe.each<RedisBackendKind>(["standalone", "cluster"])("appendAndRoute on %s Redis", (kind) => {
  let backend: RedisBackend;
  let client: RedisClient;
  let subscriber: RedisClient;
  const received: Record<string, string[]> = { "inst-a": [], "inst-b": [] };

  beforeAll(async () => {
    backend = await startRedisBackend(kind);
    client = backend.client();
    subscriber = backend.client();
    subscriber.on("message", (channel: string, message: string) => {
      for (const id of Object.keys(received)) if (channel === instanceChannel(id)) received[id]!.push(message);
    });
    await subscriber.subscribe(instanceChannel("inst-a"), instanceChannel("inst-b"));
  });

  afterAll(async () => {
    client?.disconnect();
    subscriber?.disconnect();
    await backend?.stop();
  });

  const log = new Map<string, RedisEventLog>();
  const on = (instanceId: string) => {
    if (!log.has(instanceId)) log.set(instanceId, new RedisEventLog(client, { maxLen: 100, maxAgeMs: 60_000, maxReplay: 100, instanceId }));
    return log.get(instanceId)!;
  };

  it("says `here` and publishes nothing when the owner is the calling instance; publishes to the owner's instance otherwise", async () => {
    await client.hset(ownerKey(501), "inst", "inst-a", "conn", "c1");
    await client.hset(ownerKey(502), "inst", "inst-b", "conn", "c2");

    const mine = await on("inst-a").appendAndRoute(501, unread(1));
    const theirs = await on("inst-a").appendAndRoute(502, unread(2));
    const nobody = await on("inst-a").appendAndRoute(503, unread(3)); // no socket anywhere
    expect(mine.here).toBe(true);
    expect(mine.stored).toMatchObject({ seq: 1, event: unread(1) });
    expect(theirs.here).toBe(false);
    expect(nobody.here).toBe(false);

    // A publish is in flight to the subscriber by the time the script replied; wait for it.
    for (let i = 0; i < 100 && received["inst-b"]!.length === 0; i++) await sleep(10);
    expect(received["inst-b"]!.map((m) => JSON.parse(m))).toEqual([{ k: "e", u: 502, s: { epoch: theirs.stored.epoch, seq: 1, event: unread(2) } }]);
    // The same user's event from another instance is published to inst-a as before.
    const fromB = await on("inst-b").appendAndRoute(501, unread(4));
    expect(fromB.here).toBe(false);
    for (let i = 0; i < 100 && received["inst-a"]!.length === 0; i++) await sleep(10);
    expect(received["inst-a"]!.map((m) => JSON.parse(m).s.seq)).toEqual([2]); // only seq 2: seq 1 went in the reply
  });

  // A Cluster call carries one user's keys (one slot): batching is for standalone Redis only.
  if (kind === "standalone")
    it("sends one turn's events of many users in one script call, each user's in order", async () => {
      const calls = async () => {
        const stats = String(await client.info("commandstats"));
        return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      };
      const events = on("inst-a");
      await events.appendAndRoute(900, unread(0)); // the script is loaded (EVALSHA, maybe EVAL once)
      const before = await calls();
      const users = Array.from({ length: 20 }, (_, i) => 900 + i);
      const published = await Promise.all(users.flatMap((userId) => [1, 2, 3].map((n) => events.appendAndRoute(userId, unread(n)))));
      expect(await calls()).toBe(before + 1);
      const seqs = (index: number) => published.slice(3 * index, 3 * index + 3).map((r) => r.stored.seq);
      expect(seqs(0)).toEqual([2, 3, 4]); // user 900 had one event before
      expect(seqs(19)).toEqual([1, 2, 3]);
    });

  if (kind === "standalone")
    it("a user with several events in one call: seqs in order, each routed, both keys expiring, all replayable", async () => {
      const fresh = 950; // no history yet, socket here
      const remote = 951; // a history already, socket on inst-b
      await client.hset(ownerKey(fresh), "inst", "inst-a", "conn", "c1");
      await client.hset(ownerKey(remote), "inst", "inst-b", "conn", "c2");
      const events = on("inst-a");
      const first = await events.appendAndRoute(remote, unread(0));
      const order = [fresh, remote, fresh, remote, fresh];
      const routed = await Promise.all(order.map((userId, i) => events.appendAndRoute(userId, unread(10 + i))));
      expect(routed.map((r) => [r.stored.seq, r.here])).toEqual([
        [1, true],
        [2, false],
        [2, true],
        [3, false],
        [3, true],
      ]);
      const published = () => received["inst-b"]!.map((m) => JSON.parse(m).s).filter((stored) => stored.event.count >= 10);
      for (let i = 0; i < 100 && published().length < 2; i++) await sleep(10);
      expect(published().map((stored) => [stored.seq, stored.event.count])).toEqual([
        [2, 11],
        [3, 13],
      ]);
      for (const userId of [fresh, remote])
        for (const key of [historyMetaKey(userId), historyStreamKey(userId)]) {
          const ttl = await client.pttl(key);
          expect(ttl).toBeGreaterThan(59_000);
          expect(ttl).toBeLessThanOrEqual(60_000);
        }
      const freshEpoch = routed[0]!.stored.epoch;
      const replay = await events.since(fresh, { epoch: freshEpoch, seq: 0 }, 10);
      expect(replay).toMatchObject({ recovered: true, head: { epoch: freshEpoch, seq: 3 } });
      expect(replay.events.map((e) => e.event)).toEqual([unread(10), unread(12), unread(14)]);
      expect((await events.since(remote, { epoch: first.stored.epoch, seq: 1 }, 10)).events.map((e) => e.seq)).toEqual([2, 3]);
    });
});
