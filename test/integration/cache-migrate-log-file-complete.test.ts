import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT, main } from "../../server/src/cache-migrate/cli.js";
import { useRedis } from "../helpers/corpus.js";

const redis = useRedis();
const quiet = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false } };

/** The decision log is written in chunks (sonic-boom `minLength`); the CLI must flush the last one. */
describe("cache:migrate --log-file", () => {
  it("holds a line for every decision once the command returns, the last partial chunk included", async () => {
    for (let id = 1; id <= 12; id++) await redis.client.set(`user:${id}`, JSON.stringify({ id, username: `u${id}` }), "EX", 600);
    for (let id = 13; id <= 15; id++) await redis.client.set(`user:${id}`, "not json", "EX", 600);
    const dir = await mkdtemp(path.join(os.tmpdir(), "cache-migrate-log-"));
    try {
      const logFile = path.join(dir, "decisions.log");
      const code = await main(["--redis-url", redis.server.url, "--log-file", logFile, "--log-sample", "1", "--no-progress"], quiet);
      expect(code).toBe(EXIT.done);
      const lines = (await readFile(logFile, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { decision?: string; key?: string });
      const decisions = lines.filter((line) => line.decision);
      expect(decisions).toHaveLength(15); // ~5 KB, less than one 8 KB chunk: all of it is the final flush
      expect(decisions.filter((line) => line.decision === "migrated")).toHaveLength(12);
      expect(decisions.filter((line) => line.decision === "failed").map((line) => line.key)).toEqual(expect.arrayContaining(["user:13", "user:14", "user:15"]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
