import { describe, expect, it } from "vitest";
import { migrationRetryDelay } from "../../server/src/cache-migrate/retry-delay.js";
import { redisReconnectDelay } from "../../server/src/redis/reconnect-delay.js";

describe("Redis retry delays come from the shared backoff()", () => {
  it("reconnects the server's client after 200, 400, 800, 1600 ms, then every 2 s (ioredis counts from 1)", () => {
    expect([1, 2, 3, 4, 5, 6, 50, 1e6].map(redisReconnectDelay)).toEqual([200, 400, 800, 1600, 2000, 2000, 2000, 2000]);
  });

  it("retries a migration call after 100, 200, 400 ms, capped at 30 s for many retries", () => {
    expect([0, 1, 2].map(migrationRetryDelay)).toEqual([100, 200, 400]);
    expect([8, 9, 20].map(migrationRetryDelay)).toEqual([25_600, 30_000, 30_000]);
  });
});
