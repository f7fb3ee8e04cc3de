import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { UserCache } from "../../server/src/cache/user-cache.js";
import { useRedis } from "../helpers/corpus.js";

const redis = useRedis();

const alice = { id: 7, username: "alice", email: "alice@example.com", role: "user", permissions: ["read"] };
const v1 = JSON.stringify(alice);

function cacheIn(mode: "dual" | "v2" | "v1") {
  return new UserCache({ redis: redis.client, ttlSeconds: 120, mode });
}

describe("CACHE_FORMAT_MODE", () => {
  it("defaults to dual, read from the environment at start", () => {
    expect(loadConfig({}).cacheFormatMode).toBe("dual");
    expect(loadConfig({ CACHE_FORMAT_MODE: "v1" }).cacheFormatMode).toBe("v1");
  });

  it("dual: writes v2 with the configured TTL; reads v1 and rewrites it as v2", async () => {
    const cache = cacheIn("dual");
    await cache.set(7, alice);
    expect(unwrapEnvelope(JSON.parse((await redis.client.get("user:7"))!))).toEqual(alice);
    const pttl = await redis.client.pttl("user:7");
    expect(pttl).toBeGreaterThan(115_000);
    expect(pttl).toBeLessThanOrEqual(120_000);
    await redis.client.set("user:7", v1);
    expect(await cache.get(7)).toEqual(alice);
    expect(unwrapEnvelope(JSON.parse((await redis.client.get("user:7"))!))).toEqual(alice);
  });

  it("v2: reads v2 only — a v1 value is a miss and is left for the database reload to replace", async () => {
    const cache = cacheIn("v2");
    await redis.client.set("user:7", v1);
    expect(await cache.get(7)).toBeNull();
    expect(await redis.client.get("user:7")).toBe(v1);
    await cache.set(7, alice);
    expect(await cache.get(7)).toEqual(alice);
  });

  it("v1 (rollback): reads both formats, rewrites nothing, writes v1 JSON with the TTL", async () => {
    const cache = cacheIn("v1");
    await cacheIn("dual").set(7, alice);
    const envelope = await redis.client.get("user:7");
    expect(await cache.get(7)).toEqual(alice);
    expect(await redis.client.get("user:7")).toBe(envelope);
    await cache.set(7, { ...alice, username: "alice2" });
    expect(JSON.parse((await redis.client.get("user:7"))!)).toEqual({ ...alice, username: "alice2" });
    expect(await redis.client.pttl("user:7")).toBeGreaterThan(115_000);
    expect(await cache.get(7)).toEqual({ ...alice, username: "alice2" });
  });

  it("switches at runtime with setMode, and refuses an unknown mode", async () => {
    const cache = cacheIn("dual");
    cache.setMode("v1");
    await cache.set(7, alice);
    expect(await redis.client.get("user:7")).toBe(v1);
    cache.setMode("dual");
    expect(await cache.get(7)).toEqual(alice);
    expect(unwrapEnvelope(JSON.parse((await redis.client.get("user:7"))!))).toEqual(alice);
    expect(() => cache.setMode("v3" as "v2")).toThrow(/Unknown cache format mode/);
  });

  it("never writes a record for another user, or one without an integer id", async () => {
    const cache = cacheIn("dual");
    await cache.set(8, alice);
    await cache.set(7, { ...alice, id: "7" });
    expect(await redis.client.exists("user:7", "user:8")).toBe(0);
    await redis.client.set("user:8", v1); // a value naming user 7 under user 8's key
    expect(await cache.get(8)).toBeNull();
  });

  it("invalidate deletes the key", async () => {
    const cache = cacheIn("dual");
    await cache.set(7, alice);
    await cache.invalidate(7);
    expect(await redis.client.exists("user:7")).toBe(0);
  });
});
