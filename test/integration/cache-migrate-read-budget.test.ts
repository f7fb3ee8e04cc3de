import { describe, expect, it } from "vitest";
import { BulkKeyStore } from "../../server/src/cache-migrate/bulk-key-store.js";
import { useRedis } from "../helpers/corpus.js";

const redis = useRedis();

/** What one read call returned, in a shape easy to compare: key → state (and length for a value). */
async function readOnce(keys: string[], budget: number, cap: number) {
  const { items, unread } = await new BulkKeyStore(redis.client).read(keys, budget, cap);
  const seen = items.map((item) => {
    if (item.state === "value") return [item.key, "value", item.value.length, item.ttl];
    if (item.state === "oversize") return [item.key, "oversize", item.length, item.ttl];
    if (item.state === "non-string") return [item.key, "non-string", item.ttl];
    return [item.key, item.state];
  });
  return { seen, unread };
}

describe("the bulk read: a call's values stay within its byte budget", () => {
  it("reads values while they fit, and leaves the first one that does not for a later call", async () => {
    for (const [key, bytes] of [
      ["k1", 40],
      ["k2", 30],
      ["k3", 31],
      ["k4", 5],
    ] as const)
      await redis.client.set(key, "x".repeat(bytes), "PX", 120_000);
    // 40 + 30 = 70 of 100; k3 (31) would make 101: not read, and neither is anything after it.
    expect(await readOnce(["k1", "k2", "k3", "k4"], 100, 1000)).toEqual({
      seen: [
        ["k1", "value", 40, "1m-10m"],
        ["k2", "value", 30, "1m-10m"],
      ],
      unread: ["k3", "k4"],
    });
    // Exactly the budget fits.
    expect((await readOnce(["k2", "k3", "k4"], 66, 1000)).unread).toEqual([]);
    expect((await readOnce(["k2", "k3", "k4"], 65, 1000)).unread).toEqual(["k4"]);
  });

  it("reads the first key of a call whatever the budget, unless it is over the size cap", async () => {
    await redis.client.set("big", "y".repeat(500));
    await redis.client.set("small", "z");
    expect(await readOnce(["big", "small"], 10, 1000)).toEqual({ seen: [["big", "value", 500, "no-ttl"]], unread: ["small"] });
    await redis.client.set("huge", "h".repeat(2000));
    expect(await readOnce(["huge", "small"], 10, 1000)).toEqual({
      seen: [
        ["huge", "oversize", 2000, "no-ttl"],
        ["small", "value", 1, "no-ttl"],
      ],
      unread: [],
    });
  });

  it("a value over the cap after the first key waits until it is first, then is reported with its length, never read", async () => {
    await redis.client.set("a", "1");
    await redis.client.set("huge", "h".repeat(2000), "PX", 7_200_000);
    const first = await readOnce(["a", "huge"], 1_000_000, 1000);
    expect(first).toEqual({ seen: [["a", "value", 1, "no-ttl"]], unread: ["huge"] });
    expect(await readOnce(first.unread, 1_000_000, 1000)).toEqual({ seen: [["huge", "oversize", 2000, "1h-1d"]], unread: [] });
  });

  it("tells absent keys, empty strings and keys of another type apart, wherever they are in the call", async () => {
    await redis.client.set("empty", "", "PX", 120_000);
    await redis.client.hset("hash", "f", "v");
    await redis.client.set("json", '{"id":1}');
    const keys = ["json", "gone", "empty", "hash", "gone2"];
    expect(await readOnce(keys, 1000, 1000)).toEqual({
      seen: [
        ["json", "value", 8, "no-ttl"],
        ["gone", "absent"],
        ["empty", "value", 0, "1m-10m"],
        ["hash", "non-string", "no-ttl"],
        ["gone2", "absent"],
      ],
      unread: [],
    });
    // The same keys with another one first: positions after the first take the other path.
    expect((await readOnce(["hash", ...keys], 1000, 1000)).seen[0]).toEqual(["hash", "non-string", "no-ttl"]);
    expect((await readOnce(["empty", "hash", "json"], 1000, 1000)).seen).toEqual([
      ["empty", "value", 0, "1m-10m"],
      ["hash", "non-string", "no-ttl"],
      ["json", "value", 8, "no-ttl"],
    ]);
  });
});
