import { describe, expect, it } from "vitest";
import type { ChatEvent } from "../../shared/protocol/index.js";
import { LocalEventBus } from "../../server/src/realtime/local-event-bus.js";
import { MemoryEventLog } from "../../server/src/realtime/memory-event-log.js";
import type { RedisEventLog, RoutedAppend } from "../../server/src/realtime/redis-event-log.js";
import type { StoredEvent } from "../../server/src/realtime/ports.js";
import { RedisHealth } from "../../server/src/realtime/redis-health.js";
import { ResilientEventLog } from "../../server/src/realtime/resilient-event-log.js";

// Pure ordering logic of the degraded-mode switch: the Redis side is a stand-in whose calls we
// settle by hand; RedisHealth, the in-process log and the local bus are the real classes.

const unread = (count: number): ChatEvent => ({ kind: "unread", count });

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

async function upHealth(): Promise<RedisHealth> {
  const health = new RedisHealth({ clients: [], probe: async () => "PONG", callTimeoutMs: 60_000 });
  for (let i = 0; i < 50 && !health.isUp(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(health.isUp()).toBe(true);
  return health;
}

/** A log whose Redis calls wait in `calls` until settled by hand, and what its local bus delivered. */
async function logWithHeldCalls(deliveredOf: (stored: StoredEvent) => number) {
  const health = await upHealth();
  const calls: Array<ReturnType<typeof deferred<RoutedAppend>>> = [];
  const redis = { appendAndRoute: () => (calls.push(deferred<RoutedAppend>()), calls.at(-1)!.promise) } as unknown as RedisEventLog;
  const log = new ResilientEventLog(redis, () => new MemoryEventLog(), health);
  const local = new LocalEventBus();
  const delivered: number[] = [];
  local.subscribe((_user, stored) => delivered.push(deliveredOf(stored)));
  return { health, calls, log, local, delivered };
}

describe("ResilientEventLog.publish while Redis goes down", () => {
  it("keeps a user's events in publish order when an earlier call fails after a later one fell back", async () => {
    const { health, calls, log, local, delivered } = await logWithHeldCalls((stored) => (stored.event as { count: number }).count);

    const first = log.publish(7, unread(1), local); // in flight to Redis
    health.reportFailure(new Error("Connection is closed.")); // Redis marked down meanwhile
    const second = log.publish(7, unread(2), local); // goes straight to the fallback
    const otherUser = log.publish(8, unread(9), local); // another user is not held back
    await otherUser;
    expect(delivered).toEqual([9]);

    calls[0]!.reject(new Error("Connection is closed.")); // the first call fails late
    const [a, b] = await Promise.all([first, second]);
    expect(delivered).toEqual([9, 1, 2]);
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(a.epoch).toBe(b.epoch);
    health.close();
    log.close();
  });

  it("does not wait when Redis answers: pipelined publishes stay concurrent", async () => {
    const health = await upHealth();
    const calls: Array<ReturnType<typeof deferred<RoutedAppend>>> = [];
    const redis = { appendAndRoute: () => (calls.push(deferred<RoutedAppend>()), calls.at(-1)!.promise) } as unknown as RedisEventLog;
    const log = new ResilientEventLog(redis, () => new MemoryEventLog(), health);
    const local = new LocalEventBus();
    const p1 = log.publish(7, unread(1), local);
    const p2 = log.publish(7, unread(2), local);
    expect(calls).toHaveLength(2); // both issued at once, not chained
    calls[1]!.resolve({ stored: { epoch: "e", seq: 2, event: unread(2) }, here: false });
    calls[0]!.resolve({ stored: { epoch: "e", seq: 1, event: unread(1) }, here: false });
    expect((await p1).seq).toBe(1);
    expect((await p2).seq).toBe(2);
    health.close();
    log.close();
  });

  it("on Redis Cluster (oneAtATimePerUser) sends a user's next event only after the previous reply; other users are not held", async () => {
    const health = await upHealth();
    const calls: Array<{ userId: number; call: ReturnType<typeof deferred<RoutedAppend>> }> = [];
    const redis = {
      appendAndRoute: (userId: number) => {
        const call = deferred<RoutedAppend>();
        calls.push({ userId, call });
        return call.promise;
      },
    } as unknown as RedisEventLog;
    const log = new ResilientEventLog(redis, () => new MemoryEventLog(), health, undefined, { oneAtATimePerUser: true });
    const local = new LocalEventBus();
    const p1 = log.publish(7, unread(1), local);
    const p2 = log.publish(7, unread(2), local);
    void log.publish(8, unread(9), local);
    expect(calls.map((c) => c.userId)).toEqual([7, 8]); // user 7's second event waits
    calls[0]!.call.resolve({ stored: { epoch: "e", seq: 1, event: unread(1) }, here: false });
    expect((await p1).seq).toBe(1);
    await Promise.resolve();
    expect(calls.map((c) => c.userId)).toEqual([7, 8, 7]);
    calls[2]!.call.resolve({ stored: { epoch: "e", seq: 2, event: unread(2) }, here: false });
    expect((await p2).seq).toBe(2);
    health.close();
    log.close();
  });

  it("hands an event whose socket is here to the local bus, in reply order, and not one routed elsewhere", async () => {
    const { health, calls, log, local, delivered } = await logWithHeldCalls((stored) => stored.seq);
    const published = [log.publish(7, unread(1), local), log.publish(7, unread(2), local), log.publish(7, unread(3), local)];
    calls[0]!.resolve({ stored: { epoch: "e", seq: 1, event: unread(1) }, here: true });
    calls[1]!.resolve({ stored: { epoch: "e", seq: 2, event: unread(2) }, here: false }); // published to another instance
    calls[2]!.resolve({ stored: { epoch: "e", seq: 3, event: unread(3) }, here: true });
    await Promise.all(published);
    expect(delivered).toEqual([1, 3]);
    health.close();
    log.close();
  });

  it("a failing local listener is not taken for a Redis failure", async () => {
    const health = await upHealth();
    const redis = {
      appendAndRoute: async () => ({ stored: { epoch: "e", seq: 1, event: unread(1) }, here: true }),
    } as unknown as RedisEventLog;
    const log = new ResilientEventLog(redis, () => new MemoryEventLog(), health);
    const local = new LocalEventBus();
    local.subscribe(() => {
      throw new Error("listener bug");
    });
    await expect(log.publish(7, unread(1), local)).rejects.toThrow("listener bug");
    expect(health.isUp()).toBe(true);
    health.close();
    log.close();
  });
});
