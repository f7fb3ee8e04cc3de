import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** The machine a benchmark ran on, for every report. */
export function machineInfo() {
  let redis = "unknown";
  try {
    redis = execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    // not installed
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    redis,
    /** 1/5/15-minute load averages when the report was written: other work on the machine shows here. */
    loadAverage: os.loadavg().map((l) => +l.toFixed(2)),
    date: new Date().toISOString(),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Write `bench/results/<name>.json` and `.md`; returns the paths. */
export async function writeReport(name: string, json: unknown, markdown: string): Promise<string[]> {
  const dir = path.resolve("bench/results");
  await mkdir(dir, { recursive: true });
  const jsonPath = path.join(dir, `${name}.json`);
  const mdPath = path.join(dir, `${name}.md`);
  await writeFile(jsonPath, JSON.stringify(json, null, 2) + "\n");
  await writeFile(mdPath, markdown.endsWith("\n") ? markdown : markdown + "\n");
  return [jsonPath, mdPath];
}

export function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
