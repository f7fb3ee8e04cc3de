import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { envelopeParts } from "../../server/src/cache/envelope.js";
import { BulkKeyStore } from "../../server/src/cache-migrate/bulk-key-store.js";
import type { WriteOp } from "../../server/src/cache-migrate/key-store.js";
import { useRedis } from "../helpers/corpus.js";

const redis = useRedis();
const STAMP = "2026-12-02T00:00:00.000Z";
const envelope = envelopeParts(STAMP);
const wrapped = (json: string) => Buffer.concat([envelope.head, Buffer.from(json), envelope.tail]).toString();
const legacy = (id: number, name = `old${id}`) => JSON.stringify({ id, username: name });
const set = (key: string, value: string): WriteOp => ({ key, op: "set", expected: Buffer.from(value), json: Buffer.from(value) });

/** The store's one-call compare-and-set of many keys (`SET … KEEPTTL GET`, undone when the value changed). */
describe("a batch of compare-and-sets in one script call", () => {
  it("writes each unchanged key keeping its TTL, and leaves every key changed since the read exactly as it was found", async () => {
    const client = redis.client;
    for (let id = 1; id <= 8; id++) await client.set(`user:${id}`, legacy(id), "PX", 600_000 + id);
    await client.set("user:9", legacy(9)); // no TTL
    const ops = Array.from({ length: 9 }, (_, i) => set(`user:${i + 1}`, legacy(i + 1)));
    // Between the read and the write, inside the same batch:
    await client.set("user:2", legacy(2, "fresh"), "PX", 3_600_000); // a concurrent writer, with its own TTL
    await client.set("user:3", legacy(3, "fresh")); // a concurrent writer that left no TTL
    await client.del("user:4"); // expired or deleted
    await client.del("user:5");
    await client.hset("user:5", "id", "5"); // now a hash
    const ttlBefore = new Map<string, number>();
    for (let id = 1; id <= 9; id++) ttlBefore.set(`user:${id}`, await client.pttl(`user:${id}`));

    const written = await new BulkKeyStore(client).write(ops, envelope);

    expect(written).toEqual([true, false, false, false, false, true, true, true, true]);
    for (const id of [1, 6, 7, 8, 9]) expect(await client.get(`user:${id}`), `user:${id}`).toBe(wrapped(legacy(id)));
    expect(await client.get("user:2")).toBe(legacy(2, "fresh"));
    expect(await client.get("user:3")).toBe(legacy(3, "fresh"));
    expect(await client.exists("user:4")).toBe(0);
    expect(await client.hgetall("user:5")).toEqual({ id: "5" });
    for (let id = 1; id <= 9; id++) {
      const key = `user:${id}`;
      const after = await client.pttl(key);
      const before = ttlBefore.get(key)!;
      if (before < 0) expect(after, key).toBe(before);
      else expect(before - after, key).toBeLessThan(1_000); // the same deadline, a moment later
    }
    expect(await client.pttl("user:3")).toBe(-1);
  });

  it("mixes rewritten values and compare-and-deletes in one call; a lost one does not stop the others", async () => {
    const client = redis.client;
    const doubled = JSON.stringify(legacy(1));
    await client.set("user:1", doubled, "EX", 600);
    await client.set("user:2", "garbage", "EX", 600);
    await client.set("user:3", "garbage too", "EX", 600);
    await client.set("user:4", legacy(4), "EX", 600);
    const ops: WriteOp[] = [
      { key: "user:1", op: "set", expected: Buffer.from(doubled), json: Buffer.from(legacy(1)) },
      { key: "user:2", op: "delete", expected: Buffer.from("garbage") },
      { key: "user:3", op: "delete", expected: Buffer.from("garbage too") },
      set("user:4", legacy(4)),
    ];
    await client.set("user:3", legacy(3, "fresh"), "KEEPTTL"); // rewritten before its delete

    const written = await new BulkKeyStore(client).write(ops, envelope);

    expect(written).toEqual([true, true, false, true]);
    expect(await client.get("user:1")).toBe(wrapped(legacy(1)));
    expect(await client.exists("user:2")).toBe(0);
    expect(await client.get("user:3")).toBe(legacy(3, "fresh"));
    expect(await client.get("user:4")).toBe(wrapped(legacy(4)));
    for (const key of ["user:1", "user:3", "user:4"]) expect(await client.ttl(key), key).toBeGreaterThan(590);
  });

  it("fails the whole call on a Redis out of memory instead of reporting its keys as changed", async () => {
    const client = redis.client;
    await client.set("user:1", legacy(1), "EX", 600);
    const store = new BulkKeyStore(client);
    const admin = new Redis(redis.server.url);
    try {
      await admin.config("SET", "maxmemory-policy", "noeviction");
      await admin.config("SET", "maxmemory", "1");
      await expect(store.write([set("user:1", legacy(1))], envelope)).rejects.toThrow(/OOM/);
    } finally {
      await admin.config("SET", "maxmemory", "0");
      admin.disconnect();
    }
    expect(await client.get("user:1")).toBe(legacy(1));
  });
});
