import { describe, expect, it } from "vitest";
import { buildReport, emptyCounters, formatReport, keyPrefix, recordSeen, sizeBucket, ttlBucket } from "../../server/src/cache-migrate/report.js";

describe("migration report", () => {
  it("buckets TTLs, with no TTL on its own", () => {
    expect([-1, 0, 59_999, 60_000, 3_599_999, 86_400_000, 7 * 86_400_000].map(ttlBucket)).toEqual([
      "no-ttl",
      "<1m",
      "<1m",
      "1m-10m",
      "10m-1h",
      "1d-7d",
      ">=7d",
    ]);
  });

  it("buckets value sizes", () => {
    expect([0, 1, 255, 256, 5000, 11 * 1024 * 1024].map(sizeBucket)).toEqual(["0B", "<256B", "<256B", "256B-1KB", "4KB-16KB", ">10MB"]);
  });

  it("groups keys by prefix and lists the top ones", () => {
    expect(keyPrefix("user:42")).toBe("user:*");
    expect(keyPrefix("user:tmp:7")).toBe("user:tmp:*");
    const counters = emptyCounters();
    for (const key of ["user:1", "user:2", "user:tmp:1", "session:1", "user:3"]) recordSeen(counters, key, "v1-json", "<1m", 300);
    const report = buildReport({ ...counters, activeMs: 500 }, { dryRun: false, complete: true, resumed: false, top: 2 });
    expect(report.topPrefixes).toEqual([
      { prefix: "user:*", keys: 3 },
      { prefix: "session:*", keys: 1 },
    ]);
    expect(report.keysPerSecond).toBe(10);
    expect(report.formats).toEqual({ "v1-json": 5 });
    expect(report.size["256B-1KB"]).toBe(5);
    expect(formatReport(report)).toMatch(/Cache migration complete[\s\S]*formats found:\n {2}v1-json {2}5/);
  });
});
