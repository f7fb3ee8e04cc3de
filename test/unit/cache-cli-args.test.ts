import { describe, expect, it } from "vitest";
import { HELP, parseCliArgs, UsageError } from "../../server/src/cache-migrate/cli-args.js";

describe("cache:migrate arguments", () => {
  it("has the documented defaults", () => {
    expect(parseCliArgs([], {})).toMatchObject({
      redisUrl: "redis://127.0.0.1:6379",
      prefixes: ["user:"],
      allowPickle: false,
      picklePrefixes: ["user:"],
      deleteUnparseable: false,
      dryRun: false,
      batchBytes: 5 * 1024 * 1024,
      batchMs: 100,
      rate: 0,
      scanCount: 4000,
      json: false,
      top: 10,
      logSample: 0.1,
    });
    expect(parseCliArgs([], { REDIS_URL: "redis://r:1" }).redisUrl).toBe("redis://r:1");
  });

  it("reads repeated prefixes, sizes with suffixes, and cluster seeds", () => {
    const options = parseCliArgs(
      ["--prefix", "user:", "--prefix", "profile:", "--batch-bytes", "2m", "--cluster", "10.0.0.1:7000,10.0.0.2:7001", "--allow-pickle", "--dry-run"],
      {},
    );
    expect(options).toMatchObject({ prefixes: ["user:", "profile:"], batchBytes: 2 * 1024 * 1024, allowPickle: true, dryRun: true });
    expect(options.cluster).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "10.0.0.2", port: 7001 },
    ]);
  });

  it("refuses bad input with a message that says what to do", () => {
    expect(() => parseCliArgs(["--bogus"], {})).toThrow(UsageError);
    expect(() => parseCliArgs(["--rate=-5"], {})).toThrow(/--rate must be an integer/);
    expect(() => parseCliArgs(["--prefix", ""], {})).toThrow(/scan every key/);
    expect(() => parseCliArgs(["--cluster", "nohost"], {})).toThrow(/host:port/);
    expect(() => parseCliArgs(["--log-sample", "2"], {})).toThrow(/between 0 and 1/);
    expect(() => parseCliArgs(["--cluster", "h:1", "--strategy", "bulk"], {})).toThrow(/standalone/);
  });

  it("documents every option in --help", () => {
    for (const flag of [
      "--redis-url",
      "--cluster",
      "--prefix",
      "--allow-pickle",
      "--pickle-prefix",
      "--delete-unparseable",
      "--dry-run",
      "--batch-bytes",
      "--batch-ms",
      "--rate",
      "--json",
      "--restart",
    ]) {
      expect(HELP).toContain(flag);
    }
  });
});
