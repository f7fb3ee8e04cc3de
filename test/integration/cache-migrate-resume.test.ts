import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";
import { decodeValue } from "../../server/src/cache/decode-value.js";
import { main } from "../../server/src/cache-migrate/cli.js";
import type { MigrationReport } from "../../server/src/cache-migrate/report.js";
import { loadGeneratedUsers, migrateCorpus, snapshot, useRedis } from "../helpers/corpus.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const STATE = "switchboard:cache-migrate:{user:}:state";
const JOURNAL = "switchboard:cache-migrate:{user:}:journal";

const redis = useRedis();
let counts: { legacy: number; v2: number };
beforeEach(async () => {
  counts = await loadGeneratedUsers(redis.client, 6000);
});

async function everyValueIsV2(): Promise<boolean> {
  for (const [key, { value }] of await snapshot(redis.client)) {
    const outcome = await decodeValue(value!);
    if (outcome.kind !== "data" || outcome.format !== "v2") throw new Error(`${key} is ${outcome.format}`);
  }
  return true;
}

function expectExactCounts(report: MigrationReport) {
  expect(report).toMatchObject({ complete: true, keys: 6000, migrated: counts.legacy, skipped: counts.v2, duplicates: 0, failed: 0, deleted: 0 });
  expect(Object.values(report.migratedFrom).reduce((a, b) => a + b, 0)).toBe(counts.legacy);
  expect(report.formats).toEqual({ "v1-json": 3600, "v1-double-json": 600, "v1-gzip": 600, "v1-zlib": 600, v2: 600 });
}

async function runCli(args: string[]): Promise<{ code: number; report: MigrationReport }> {
  let out = "";
  const stdout = { write: (chunk: string) => ((out += chunk), true) };
  const code = await main([...args, "--json", "--no-progress", "--log-level", "silent"], { stdout, stderr: process.stderr });
  return { code, report: JSON.parse(out) as MigrationReport };
}

describe("resumable and idempotent migration", () => {
  it("a run that crashes after writing but before its checkpoint resumes without re-migrating or double counting", async () => {
    let calls = 0;
    const crash = migrateCorpus(redis.client, "bulk", {
      scanCount: 500,
      keysPerCall: 100,
      afterWrite: () => {
        if (++calls === 7) throw new Error("simulated crash between the writes and the checkpoint");
      },
    });
    await expect(crash).rejects.toThrow(/simulated crash/);
    expect(await redis.client.llen(JOURNAL)).toBeGreaterThan(0); // writes done, page not committed
    const report = await migrateCorpus(redis.client, "bulk", { scanCount: 500, keysPerCall: 100 });
    expect(report.resumed).toBe(true);
    expectExactCounts(report);
    expect(await everyValueIsV2()).toBe(true);
  });

  it("a CLI process killed with SIGKILL mid-run finishes when started again; a second full run migrates 0 keys", async () => {
    const url = `redis://127.0.0.1:${redis.server.port}`;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "server/src/cache-migrate/cli.ts",
        "--redis-url",
        url,
        "--rate",
        "2000",
        "--scan-count",
        "200",
        "--log-level",
        "silent",
        "--no-progress",
      ],
      {
        cwd: repoRoot,
        stdio: "ignore",
      },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      for (let i = 0; i < 400; i++) {
        const state = await redis.client.get(STATE);
        if (state && (JSON.parse(state) as { counters: { keys: number } }).counters.keys >= 1000) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const state = JSON.parse((await redis.client.get(STATE))!) as { counters: { keys: number } };
      expect(state.counters.keys).toBeGreaterThanOrEqual(1000);
      expect(state.counters.keys).toBeLessThan(6000);
    } finally {
      child.kill("SIGKILL");
      await exited;
    }

    const resumed = await runCli(["--redis-url", url]);
    expect(resumed.code).toBe(0);
    expect(resumed.report.resumed).toBe(true);
    expectExactCounts(resumed.report);
    expect(await everyValueIsV2()).toBe(true);

    const again = await runCli(["--redis-url", url]);
    expect(again.code).toBe(0);
    expect(again.report).toMatchObject({ resumed: false, keys: 6000, migrated: 0, skipped: 6000, formats: { v2: 6000 } });
  });
});
