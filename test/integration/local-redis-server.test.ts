import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisBinaryMissingError, startLocalRedis } from "../../server/src/redis/local-redis-server.js";

describe("startLocalRedis", () => {
  it("starts a private redis-server on a free port and stops it", async () => {
    const server = await startLocalRedis();
    expect(server.port).not.toBe(6379);
    const client = new Redis(server.url);
    await client.set("k", "v");
    expect(await client.get("k")).toBe("v");
    client.disconnect();
    await server.stop();
    expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
  });

  it("names the package to install when the binary is missing", async () => {
    await expect(startLocalRedis({ binary: "redis-server-does-not-exist" })).rejects.toBeInstanceOf(RedisBinaryMissingError);
    await expect(startLocalRedis({ binary: "redis-server-does-not-exist" })).rejects.toThrow(/apt-get install -y redis-server/);
  });
});
