import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../server/src/redis/local-redis-server.js";

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";

/** Fail (not skip) with what to install when the binaries are missing. */
export function requireBinary(bin: string): void {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: install the Debian package "prometheus" (apt-get install -y prometheus; .ci/run does it).`);
}

export function promtool(...args: string[]): { status: number | null; output: string } {
  requireBinary(PROMTOOL_BIN);
  const result = spawnSync(PROMTOOL_BIN, args, { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface PrometheusServer {
  readonly url: string;
  /** Instant query through the HTTP API. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** Alerts (pending and firing) from `/api/v1/alerts`. */
  alerts(): Promise<Array<{ labels: Record<string, string>; state: string; value: string }>>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A private `prometheus` on a free loopback port with its own config and data folder (never the
 * system service), scraping `targets` and evaluating `ruleFiles` every `intervalS` seconds.
 */
export async function startPrometheus(options: {
  targets: Array<{ job: string; address: string }>;
  ruleFiles: string[];
  intervalS?: number;
}): Promise<PrometheusServer> {
  requireBinary(PROMETHEUS_BIN);
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-prometheus-"));
  const port = await freePort();
  const interval = `${options.intervalS ?? 1}s`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: options.ruleFiles.map((file) => path.resolve(file)),
    scrape_configs: options.targets.map((target) => ({ job_name: target.job, static_configs: [{ targets: [target.address] }] })),
  };
  const configFile = path.join(dir, "prometheus.yml");
  await writeFile(configFile, JSON.stringify(config)); // JSON is YAML
  let output = "";
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited (${child.exitCode}) during start:\n${output.slice(-2000)}`);
    }
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within 30 s:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const res = await fetch(`${url}${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`prometheus ${pathAndQuery}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    output: () => output,
    stop,
    query: async (expr) =>
      (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: Array<{ labels: Record<string, string>; state: string; value: string }> }>("/api/v1/alerts")).alerts,
  };
}
