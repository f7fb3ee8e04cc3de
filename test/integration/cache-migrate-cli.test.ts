import { beforeAll, describe, expect, it } from "vitest";
import { EXIT, main } from "../../server/src/cache-migrate/cli.js";
import { loadCorpus, loadCorpusInto, useRedis } from "../helpers/corpus.js";

const redis = useRedis({ flushEachTest: false });
beforeAll(async () => {
  await loadCorpusInto(
    redis.client,
    loadCorpus().filter((e) => e.class !== "bomb"),
  );
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: { write: (chunk: string) => ((stdout += chunk), true) },
    stderr: { write: (chunk: string) => ((stderr += chunk), true), isTTY: false },
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe("npm run cache:migrate", () => {
  it("--help prints the usage", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(EXIT.done);
    expect(stdout).toMatch(/^Usage: npm run cache:migrate -- \[options\]/);
  });

  it("a bad option exits 2 with a hint", async () => {
    const { code, stderr } = await run(["--nope"]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/--help/);
  });

  it("an unreachable Redis exits 1 with a message", async () => {
    const { code, stderr } = await run(["--redis-url", "redis://127.0.0.1:1", "--log-level", "silent", "--max-retries", "0"]);
    expect(code).toBe(EXIT.error);
    expect(stderr).toMatch(/cache:migrate failed/);
  });

  it("prints a text report, and JSON with --json", async () => {
    const url = redis.server.url;
    const dry = await run(["--redis-url", url, "--dry-run", "--log-level", "silent"]);
    expect(dry.code).toBe(EXIT.done);
    expect(dry.stdout).toMatch(/DRY RUN, nothing written/);
    expect(dry.stdout).toMatch(/would migrate 14/);
    for (const section of ["formats found:", "TTL:", "value size:", "top key prefixes:", "keys/s"]) expect(dry.stdout).toContain(section);
    const real = await run(["--redis-url", url, "--json", "--log-level", "silent"]);
    expect(real.code).toBe(EXIT.done);
    const noTtl = loadCorpus().filter((e) => e.key.startsWith("user:") && e.pttlMs === -1).length;
    expect(JSON.parse(real.stdout)).toMatchObject({ complete: true, dryRun: false, migrated: 14, ttl: { "no-ttl": noTtl } });
  });
});
