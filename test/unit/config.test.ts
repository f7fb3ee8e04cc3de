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
      shutdownDrainRate: 400,
      reconnectWindowS: 30,
      replacementLoopThreshold: 10,
      replacementLoopWindowS: 300,
    });
    expect(loadConfig({ SHUTDOWN_DRAIN_RATE: "0" }).shutdownDrainRate).toBe(0); // 0: all at once
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
    expect(() => loadConfig({ SHUTDOWN_DRAIN_RATE: "-1" })).toThrow(/SHUTDOWN_DRAIN_RATE must be an integer/);
    expect(() => loadConfig({ REPLACEMENT_LOOP_THRESHOLD: "0" })).toThrow(/REPLACEMENT_LOOP_THRESHOLD/);
  });
  it("parses the Origin allow-list", () => {
    expect(loadConfig({ ALLOWED_ORIGINS: "https://a.example, https://b.example" }).allowedOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(loadConfig({ PORT: "9000" }).allowedOrigins).toEqual(["http://localhost:9000", "http://127.0.0.1:9000", EXTENSION_ORIGIN]);
  });
});
