import { describe, expect, it } from "vitest";
import { EXTENSION_ORIGIN } from "../../shared/protocol/index.js";
import { ConfigError, DEFAULT_JWT_SECRET, loadConfig } from "../../server/src/config.js";

describe("loadConfig", () => {
  it("has the documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      accessTokenTtlS: 900,
      heartbeatIntervalMs: 20000,
      heartbeatMaxMissed: 3,
      wsMaxPayloadBytes: 65536,
      userCacheTtlS: 3600,
      cacheFormatMode: "dual",
      redisUrl: undefined,
      databaseUrl: undefined,
      seedDemoUsers: true,
      demoPassword: "demo",
      wsMaxBufferedBytes: 1048576,
      rateLimitMaxRefused: 20,
      rateLimits: {
        send: { perSecond: 10, burst: 50 },
        read: { perSecond: 10, burst: 50 },
        resume: { perSecond: 1, burst: 10 },
        ping: { perSecond: 1, burst: 10 },
      },
    });
  });
  it("reads every budget from RATE_LIMIT_<KIND>_PER_S / _BURST (0 per second = unlimited)", () => {
    const c = loadConfig({ RATE_LIMIT_SEND_PER_S: "0", RATE_LIMIT_PING_BURST: "3", WS_MAX_BUFFERED_BYTES: "4096" });
    expect(c.rateLimits.send).toEqual({ perSecond: 0, burst: 50 });
    expect(c.rateLimits.ping).toEqual({ perSecond: 1, burst: 3 });
    expect(c.wsMaxBufferedBytes).toBe(4096);
    expect(() => loadConfig({ RATE_LIMIT_READ_PER_S: "-1" })).toThrow(/RATE_LIMIT_READ_PER_S must be an integer/);
  });
  it("refuses to start in production with the default or a short secret", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: DEFAULT_JWT_SECRET })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "short" })).toThrow(/at least 32/);
    const prod = loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(48) });
    expect(prod.seedDemoUsers).toBe(false); // never seeded in production
  });
  it("says what is wrong with a bad value", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT must be an integer/);
    expect(() => loadConfig({ CACHE_FORMAT_MODE: "v3" })).toThrow(/CACHE_FORMAT_MODE must be one of dual, v2, v1/);
    expect(() => loadConfig({ HEARTBEAT_MAX_MISSED: "0" })).toThrow(/HEARTBEAT_MAX_MISSED/);
  });
  it("parses the Origin allow-list", () => {
    expect(loadConfig({ ALLOWED_ORIGINS: "https://a.example, https://b.example" }).allowedOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(loadConfig({ PORT: "9000" }).allowedOrigins).toEqual(["http://localhost:9000", "http://127.0.0.1:9000", EXTENSION_ORIGIN]);
  });
});
