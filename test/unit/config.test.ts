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
      shutdownDrainRate: 400,
      reconnectWindowS: 30,
      replacementLoopThreshold: 10,
      replacementLoopWindowS: 300,
      dbWarmUpRounds: 1,
      pgliteWasmTierUp: false,
    });
    expect(loadConfig({ SHUTDOWN_DRAIN_RATE: "0" }).shutdownDrainRate).toBe(0); // 0: all at once
    expect(loadConfig({ DB_WARM_UP_ROUNDS: "0", PGLITE_WASM_TIER_UP: "true" })).toMatchObject({ dbWarmUpRounds: 0, pgliteWasmTierUp: true });
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
    expect(() => loadConfig({ SHUTDOWN_DRAIN_RATE: "-1" })).toThrow(/SHUTDOWN_DRAIN_RATE must be an integer/);
    expect(() => loadConfig({ REPLACEMENT_LOOP_THRESHOLD: "0" })).toThrow(/REPLACEMENT_LOOP_THRESHOLD/);
  });
  it("parses the Origin allow-list", () => {
    expect(loadConfig({ ALLOWED_ORIGINS: "https://a.example, https://b.example" }).allowedOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(loadConfig({ PORT: "9000" }).allowedOrigins).toEqual(["http://localhost:9000", "http://127.0.0.1:9000", EXTENSION_ORIGIN]);
  });
  it("has the documented login, hashing and proxy defaults", () => {
    expect(loadConfig({})).toMatchObject({
      trustProxy: "loopback",
      loginMaxFailuresPerUsernameAndIp: 5,
      loginUsernameAndIpWindowS: 900,
      loginMaxFailuresPerIp: 100,
      loginIpWindowS: 3600,
      passwordHashConcurrency: 2,
      passwordHashQueueMax: 64,
    });
    expect(() => loadConfig({ PASSWORD_HASH_CONCURRENCY: "0" })).toThrow(/PASSWORD_HASH_CONCURRENCY must be an integer ≥ 1/);
  });
  it("decides where /metrics is served", () => {
    const production = { NODE_ENV: "production", JWT_SECRET: "x".repeat(48) };
    expect(loadConfig({})).toMatchObject({ metricsOnPublicListener: true, metricsToken: undefined, metricsPort: undefined, metricsHost: "127.0.0.1" });
    expect(loadConfig(production).metricsOnPublicListener).toBe(false);
    expect(loadConfig({ ...production, METRICS_TOKEN: "t".repeat(16) }).metricsOnPublicListener).toBe(true);
    expect(loadConfig({ METRICS_PORT: "9100" })).toMatchObject({ metricsOnPublicListener: false, metricsPort: 9100 });
    expect(loadConfig({ METRICS_PORT: "9100", METRICS_HOST: "0.0.0.0" }).metricsHost).toBe("0.0.0.0");
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN must be at least 16/);
    expect(() => loadConfig({ METRICS_PORT: "ninety" })).toThrow(/METRICS_PORT must be an integer/);
  });
});
