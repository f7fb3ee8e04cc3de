import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { loadCorpus, loadCorpusInto, migrateCorpus, useRedis } from "../helpers/corpus.js";

const redis = useRedis();

type Line = { decision?: string; key?: string; hash?: string; preview?: string; sampled?: boolean };

async function migrateLogged(random: () => number): Promise<{ lines: Line[]; text: string; failed: number }> {
  await loadCorpusInto(
    redis.client,
    loadCorpus().filter((e) => e.class !== "bomb"),
  );
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const logger = pino({ level: "info" }, stream); // a plain logger, as the CLI uses: the masking is the tool's own
  const report = await migrateCorpus(redis.client, "bulk", { logger, random, allowPickle: true });
  await new Promise((resolve) => setImmediate(resolve));
  const lines = text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Line)
    .filter((line) => line.decision);
  return { lines, text, failed: report.failed };
}

describe("the migration decision log", () => {
  it("masks personal data: no e-mail or phone in clear, a hash instead of the value, previews ≤ 100 bytes", async () => {
    const { lines, text } = await migrateLogged(() => 0); // log every decision
    expect(lines.length).toBeGreaterThan(30);
    expect(text).not.toMatch(/user\d+\.(li|chen|wang)@example\.com/);
    expect(text).toMatch(/u\*\*\*@example\.com/);
    expect(text).not.toMatch(/"1[3-9]\d{9}"/);
    expect(text).toMatch(/1\d\d\*\*\*\*\d{4}/);
    expect(text).toMatch(/"key":"user:10331\d{3}"/); // user ids stay readable
    for (const line of lines.filter((l) => l.preview !== undefined)) {
      expect(line.hash).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/);
      expect(Buffer.byteLength(line.preview!)).toBeLessThanOrEqual(100);
    }
  });

  it("samples routine decisions (10 % by default) and logs every failure", async () => {
    const { lines, failed } = await migrateLogged(() => 0.5); // above the 10 % rate: no routine line
    expect(failed).toBeGreaterThan(0);
    expect(lines.filter((l) => l.decision === "failed")).toHaveLength(failed);
    expect(lines.every((l) => l.decision === "failed" && l.sampled === false)).toBe(true);
  });
});
