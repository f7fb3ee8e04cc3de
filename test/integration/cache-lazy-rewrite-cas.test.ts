import { beforeAll, describe, expect, it } from "vitest";
import { cacheCommands } from "../../server/src/cache/cache-commands.js";
import { snapshot, ttlKept, useRedis } from "../helpers/corpus.js";

const redis = useRedis();
let commands: ReturnType<typeof cacheCommands>;
beforeAll(() => {
  commands = cacheCommands(redis.client);
});

const OLD = '{"id":1,"name":"old"}';
const NEW = '{"schema_version":"2","content_type":"application/json","data":{"id":1,"name":"old"},"created_at":"2025-01-01T00:00:00Z"}';

describe("the lazy-rewrite compare-and-set (Lua, SET … KEEPTTL)", () => {
  it("rewrites an unchanged value and keeps its TTL exactly", async () => {
    await redis.client.set("user:1", OLD, "PX", 60_000);
    const before = (await snapshot(redis.client)).get("user:1")!;
    expect(await commands.switchboardCacheCas("user:1", OLD, NEW)).toBe(1);
    const after = (await snapshot(redis.client)).get("user:1")!;
    expect(after.value!.toString()).toBe(NEW);
    expect(ttlKept(before, after)).toBe(true);
    expect(after.expireAt).toBe(before.expireAt);
  });

  it("keeps no TTL as no TTL (never a fixed EX)", async () => {
    await redis.client.set("user:1", OLD);
    expect(await commands.switchboardCacheCas("user:1", OLD, NEW)).toBe(1);
    expect(await redis.client.pttl("user:1")).toBe(-1);
  });

  it("does not resurrect a key that expired after it was read", async () => {
    await redis.client.set("user:1", OLD, "PX", 30);
    const read = await redis.client.get("user:1");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await commands.switchboardCacheCas("user:1", read!, NEW)).toBe(0);
    expect(await redis.client.exists("user:1")).toBe(0);
  });

  it("never overwrites a newer write", async () => {
    await redis.client.set("user:1", OLD, "PX", 60_000);
    const read = await redis.client.get("user:1");
    await redis.client.set("user:1", '{"id":1,"name":"newer"}', "EX", 3600);
    expect(await commands.switchboardCacheCas("user:1", read!, NEW)).toBe(0);
    expect(await redis.client.get("user:1")).toBe('{"id":1,"name":"newer"}');
  });

  it("compares bytes exactly (binary values, a one-byte difference)", async () => {
    const gzip = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00]);
    await redis.client.set("user:1", gzip);
    expect(await commands.switchboardCacheCas("user:1", Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x01]), NEW)).toBe(0);
    expect(await commands.switchboardCacheCas("user:1", gzip, NEW)).toBe(1);
  });

  it("reads with the input cap checked first (STRLEN), never returning an oversize value", async () => {
    await redis.client.set("user:1", "x".repeat(2000));
    expect(await commands.switchboardCacheReadBuffer("user:1", 1000)).toBe(2000);
    expect(await commands.switchboardCacheReadBuffer("user:1", 5000)).toEqual(Buffer.from("x".repeat(2000)));
    expect(await commands.switchboardCacheReadBuffer("user:2", 1000)).toBeNull();
  });
});
