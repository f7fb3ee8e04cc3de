import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent } from "../../shared/protocol/index.js";
import { RedisEventLog, type RedisEventLogOptions } from "../../server/src/realtime/redis-event-log.js";
import { historyMetaKey, historyStreamKey, type RedisClient } from "../../server/src/realtime/redis-keys.js";
import { startRedisBackend, type RedisBackend, type RedisBackendKind } from "../helpers/redis-cluster.js";

const unread = (count: number): ChatEvent => ({ kind: "unread", count });
const defaults: RedisEventLogOptions = { maxLen: 1000, maxAgeMs: 3600_000, maxReplay: 500 };

describe.each<RedisBackendKind>(["standalone", "cluster"])("RedisEventLog on %s Redis", (kind) => {
  let backend: RedisBackend;
  let clients: RedisClient[];
  let user = 1000;
  const nextUser = () => ++user;

  beforeAll(async () => {
    backend = await startRedisBackend(kind);
    clients = [backend.client(), backend.client()];
  });

  afterAll(async () => {
    for (const client of clients ?? []) client.disconnect();
    await backend?.stop();
  });

  const log = (options: Partial<RedisEventLogOptions> = {}, client = clients[0]!) => new RedisEventLog(client, { ...defaults, ...options });

  it("assigns increasing seqs in one epoch, and head reports the last one", async () => {
    const events = log();
    const userId = nextUser();
    const fresh = await events.head(userId);
    expect(fresh.seq).toBe(0);
    const first = await events.append(userId, unread(1));
    const second = await events.append(userId, unread(2));
    expect(first).toEqual({ epoch: fresh.epoch, seq: 1, event: unread(1) });
    expect(second.seq).toBe(2);
    expect(await events.head(userId)).toEqual({ epoch: fresh.epoch, seq: 2 });
  });

  it("concurrent appends from two instances get distinct seqs, replayed in order", async () => {
    const [one, two] = [log({}, clients[0]), log({}, clients[1])];
    const userId = nextUser();
    const appended = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? one : two).append(userId, unread(i))));
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const replay = await one.since(userId, { epoch: appended[0]!.epoch, seq: 0 }, 500);
    expect(replay.recovered).toBe(true);
    expect(replay.more).toBe(false);
    expect(replay.events.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // Each seq carries the event that got it.
    const bySeq = new Map(appended.map((e) => [e.seq, e.event]));
    for (const replayed of replay.events) expect(replayed.event).toEqual(bySeq.get(replayed.seq));
  });

  it("replays exactly the missed events, bounded per request, paging with `more`", async () => {
    const events = log({ maxReplay: 30 });
    const userId = nextUser();
    for (let i = 1; i <= 100; i++) await events.append(userId, unread(i));
    const { epoch } = await events.head(userId);
    const page = await events.since(userId, { epoch, seq: 10 }, 1000); // asks for more than maxReplay
    expect(page.recovered).toBe(true);
    expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 11 + i));
    expect(page.more).toBe(true);
    expect(page.head).toEqual({ epoch, seq: 100 });
    const seen: number[] = [];
    let cursor = 40;
    for (let pages = 0; pages < 10; pages++) {
      const next = await events.since(userId, { epoch, seq: cursor }, 25);
      seen.push(...next.events.map((e) => e.seq));
      cursor = next.events.at(-1)?.seq ?? cursor;
      if (!next.more) break;
    }
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => 41 + i));
  });

  it("says recovered:false for another epoch or a cursor ahead of the head, and true with nothing at the head", async () => {
    const events = log();
    const userId = nextUser();
    const { epoch } = await events.append(userId, unread(1));
    expect(await events.since(userId, { epoch: "some-other-epoch", seq: 0 }, 10)).toMatchObject({ recovered: false, events: [], head: { epoch, seq: 1 } });
    expect(await events.since(userId, { epoch, seq: 5 }, 10)).toMatchObject({ recovered: false, events: [] });
    expect(await events.since(userId, { epoch, seq: 1 }, 10)).toEqual({ recovered: true, events: [], more: false, head: { epoch, seq: 1 } });
  });

  it("is bounded by length: a cursor older than what is kept is not recovered", async () => {
    const events = log({ maxLen: 10 });
    const userId = nextUser();
    for (let i = 1; i <= 400; i++) await events.append(userId, unread(i));
    const length = await clients[0]!.xlen(historyStreamKey(userId));
    expect(length).toBeLessThan(400); // MAXLEN ~ trims whole stream nodes, so a little over 10 is kept
    const { epoch } = await events.head(userId);
    expect((await events.since(userId, { epoch, seq: 0 }, 10)).recovered).toBe(false);
    const recent = await events.since(userId, { epoch, seq: 395 }, 10);
    expect(recent.recovered).toBe(true);
    expect(recent.events.map((e) => e.seq)).toEqual([396, 397, 398, 399, 400]);
  });

  it("is bounded by age: old entries are never replayed and are trimmed by the next append", async () => {
    const events = log({ maxAgeMs: 1000 });
    const userId = nextUser();
    const { epoch } = await events.append(userId, unread(1));
    await events.append(userId, unread(2));
    await sleep(600);
    await events.append(userId, unread(3)); // keeps the history alive for another second
    await sleep(600); // now 1 and 2 are older than a second, 3 is not
    expect((await events.since(userId, { epoch, seq: 0 }, 10)).recovered).toBe(false);
    expect((await events.since(userId, { epoch, seq: 2 }, 10)).events.map((e) => e.seq)).toEqual([3]);
    expect(await events.append(userId, unread(4))).toMatchObject({ epoch, seq: 4 });
    expect(await clients[0]!.xlen(historyStreamKey(userId))).toBe(2);
    const ttl = await clients[0]!.pttl(historyStreamKey(userId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
  });

  it("trims by age whichever way the history began: made by a resume, by an older version (no oldest-entry time), or trimmed by length", async () => {
    const client = clients[0]!;
    const events = log({ maxAgeMs: 600, maxLen: 3 });
    // Begun by head() (a connect's position): the meta hash has no oldest-entry time yet.
    const byHead = nextUser();
    const { epoch } = await events.head(byHead);
    await events.append(byHead, unread(1));
    // Begun by an older version: entries, but no oldest-entry time in the meta hash.
    const byOlder = nextUser();
    await events.append(byOlder, unread(1));
    await client.hdel(historyMetaKey(byOlder), "old");
    // Trimmed by length (MAXLEN ~ removes whole nodes, so push well past it).
    const byLength = nextUser();
    for (let i = 1; i <= 300; i++) await events.append(byLength, unread(i));
    await sleep(400);
    for (const userId of [byHead, byOlder, byLength]) await events.append(userId, unread(1000));
    await sleep(350); // the first entries are now over 600 ms old, the last ones are not
    for (const userId of [byHead, byOlder, byLength]) {
      const kept = await client.xlen(historyStreamKey(userId));
      await events.append(userId, unread(2000));
      const after = await client.xrange(historyStreamKey(userId), "-", "+");
      expect(after.length).toBeLessThanOrEqual(kept); // something old went
      const ms = after.map(([id]) => Number(id.split("-")[1]));
      const now = Number((await client.time())[0]) * 1000;
      expect(Math.min(...ms)).toBeGreaterThan(now - 600 - 50); // nothing older than maxAge is left
      expect(after.at(-1)![1]).toEqual(["e", JSON.stringify(unread(2000))]);
    }
    expect((await events.since(byHead, { epoch, seq: 1 }, 10)).events.map((e) => e.seq)).toEqual([2, 3]);
  });

  it("expires an idle history: after maxAge without events the next use starts a new epoch", async () => {
    const events = log({ maxAgeMs: 200 });
    const userId = nextUser();
    const { epoch } = await events.append(userId, unread(1));
    await sleep(300);
    const replay = await events.since(userId, { epoch, seq: 0 }, 10);
    expect(replay).toMatchObject({ recovered: false, events: [] });
    expect(replay.head.epoch).not.toBe(epoch);
  });

  it("starts a new epoch when the history is gone (expired, or Redis restarted empty)", async () => {
    const events = log();
    const userId = nextUser();
    const before = await events.append(userId, unread(1));
    await clients[0]!.del(historyMetaKey(userId), historyStreamKey(userId));
    const replay = await events.since(userId, { epoch: before.epoch, seq: 1 }, 10);
    expect(replay.recovered).toBe(false);
    expect(replay.head.epoch).not.toBe(before.epoch);
    expect(replay.head.seq).toBe(0);
    const after = await events.append(userId, unread(2));
    expect(after).toMatchObject({ epoch: replay.head.epoch, seq: 1 });
  });
});
