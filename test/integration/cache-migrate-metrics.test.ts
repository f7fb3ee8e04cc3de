import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, main } from "../../server/src/cache-migrate/cli.js";
import { loadCorpus, loadCorpusInto, useRedis } from "../helpers/corpus.js";

const redis = useRedis({ flushEachTest: false });
let dir: string;
beforeAll(async () => {
  await loadCorpusInto(
    redis.client,
    loadCorpus().filter((e) => e.class !== "bomb"),
  );
  dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-migrate-metrics-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** `name{labels} value` lines of one metric, as a map from the label text to the value. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (match) found.set(match[1]!, Number(match[2]));
  }
  return found;
}

const decisionCount = (text: string, decision: string) =>
  [...samples(text, "switchboard_cache_migrate_decisions_total")]
    .filter(([labels]) => labels.includes(`decision="${decision}"`))
    .reduce((sum, [, value]) => sum + value, 0);

describe("cache:migrate metrics (--metrics-port, --metrics-textfile)", () => {
  it("serves its decisions while running and leaves the final counts in the textfile, equal to the report", async () => {
    const textfile = path.join(dir, "cache-migrate.prom");
    let stdout = "";
    let stderr = "";
    let scraped = "";
    const io = {
      stdout: { write: (chunk: string) => ((stdout += chunk), true) },
      stderr: {
        write: (chunk: string) => {
          stderr += chunk;
          // Scrape as Prometheus would, while the (rate-limited) run is still going.
          const url = /metrics on (http:\/\/\S+\/metrics)/.exec(chunk)?.[1];
          if (url) setTimeout(() => void fetch(url).then(async (res) => (scraped = await res.text())), 300);
          return true;
        },
        isTTY: false,
      },
    };
    const code = await main(
      [
        "--redis-url",
        redis.server.url,
        "--json",
        "--log-level",
        "silent",
        "--rate",
        "20",
        "--scan-count",
        "5",
        "--metrics-port",
        "0",
        "--metrics-textfile",
        textfile,
      ],
      io,
    );
    expect(code, stderr).toBe(EXIT.done);
    const report = JSON.parse(stdout) as { migrated: number; skipped: number; failed: number; keys: number };

    expect(scraped).toContain('switchboard_cache_migrate_running{dry_run="false"} 1');
    expect(decisionCount(scraped, "migrated")).toBeLessThan(report.migrated); // mid-run

    const final = await readFile(textfile, "utf8");
    expect(final).toContain('switchboard_cache_migrate_running{dry_run="false"} 0');
    expect(decisionCount(final, "migrated")).toBe(report.migrated);
    expect(decisionCount(final, "skipped")).toBe(report.skipped);
    expect(decisionCount(final, "failed")).toBe(report.failed);
    expect(report.failed).toBeGreaterThan(0); // the corpus has unparseable values and rejected pickles
    expect(final).toMatch(/switchboard_cache_migrate_decisions_total\{decision="failed",format="unknown",dry_run="false"\} \d+/);
  });

  it("a bad --metrics-port is a usage error", async () => {
    let stderr = "";
    const io = { stdout: { write: () => true }, stderr: { write: (chunk: string) => ((stderr += chunk), true), isTTY: false } };
    expect(await main(["--metrics-port", "99999"], io)).toBe(EXIT.usage);
    expect(stderr).toMatch(/--metrics-port must be a port number/);
  });
});
