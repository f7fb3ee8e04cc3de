/**
 * `npm run bench:cache` — the v2 cache migration on a private Redis, in one run:
 *  1. load BENCH_KEYS (1,000,000) legacy `user:{id}` values: JSON-family majority (compact and
 *     spaced JSON, double-encoded JSON), some gzip and zlib; TTLs from minutes to days, 5 % none;
 *  2. ceiling: `redis-benchmark -P 16` GET+SET on the same Redis;
 *  3. the tool (`cache:migrate`, its own process, default options, decision log to a file) on
 *     all of them, while a reader process (bench/lib/online-reader.ts, its own connection, like
 *     the server) reads random profiles through `UserCache` → p99 latency (and the same reads for
 *     10 s before, with no migration running, as the baseline); CPU seconds of the tool and of
 *     Redis during each run, to say which side the time goes to;
 *  4. the tool on BENCH_JSON_KEYS (500,000) JSON-family values only;
 *  5. the naive loop (per key GET, PTTL, SET, PEXPIRE in sequence) on BENCH_NAIVE_KEYS (50,000)
 *     of the same mix → the tool's speed-up.
 * Writes bench/results/cache-bench.json and .md. BENCH_KEYS / BENCH_JSON_KEYS / BENCH_NAIVE_KEYS
 * scale it down for quick iterations; BENCH_TOOL_ARGS adds tool options, BENCH_TOOL_NODE_ARGS Node
 * flags for the tool's process (`--cpu-prof --cpu-prof-dir=…`).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { deflateSync, gzipSync } from "node:zlib";
import { Redis } from "ioredis";
import { decodeValue } from "../server/src/cache/decode-value.js";
import { encodeEnvelope } from "../server/src/cache/envelope.js";
import type { MigrationReport } from "../server/src/cache-migrate/report.js";
import { startLocalRedis } from "../server/src/redis/local-redis-server.js";
import type { OnlineReads } from "./lib/online-reader.js";
import { log, machineInfo, writeReport } from "./lib/report.js";
import { endWithThisProcess } from "./lib/children.js";

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const JSON_KEYS = Number(process.env.BENCH_JSON_KEYS ?? 500_000);
const NAIVE_KEYS = Number(process.env.BENCH_NAIVE_KEYS ?? 50_000);
/** Extra `cache:migrate` options for experiments, e.g. "--keys-per-call 100". */
const TOOL_ARGS = (process.env.BENCH_TOOL_ARGS ?? "").split(" ").filter(Boolean);
/** Node flags for the tool's process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (a profile per run). */
const TOOL_NODE_ARGS = (process.env.BENCH_TOOL_NODE_ARGS ?? "").split(" ").filter(Boolean);
/** Run the tool under `nice -n BENCH_NICE` (an operator's choice on a box shared with the service). */
const NICE = process.env.BENCH_NICE;
const TARGETS = { jsonFamilyKeysPerSecond: 100_000, speedupVsNaive: 5, onlineReadP99Ms: 5 };

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, "../server/src/cache-migrate/cli.js");
const READER = path.resolve(here, "lib/online-reader.js");
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Kind = "v1-json" | "v1-json-spaced" | "v1-double-json" | "v1-gzip" | "v1-zlib";
/** Out of 20: 9 compact JSON, 3 spaced JSON, 3 double-encoded, 3 gzip, 2 zlib → 75 % JSON family. */
const MIXED: Kind[] = [
  ...Array<Kind>(9).fill("v1-json"),
  ...Array<Kind>(3).fill("v1-json-spaced"),
  ...Array<Kind>(3).fill("v1-double-json"),
  ...Array<Kind>(3).fill("v1-gzip"),
  ...Array<Kind>(2).fill("v1-zlib"),
];
const JSON_ONLY: Kind[] = ["v1-json", "v1-json", "v1-json", "v1-json-spaced", "v1-double-json"];
const NAMES = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵婷", "黄强"];

function user(id: number) {
  return {
    id,
    username: `user${id}`,
    email: `user${id}.li@example.com`,
    phone: `138${String(id % 100_000_000).padStart(8, "0")}`,
    name: NAMES[id % NAMES.length],
    avatar: `https://cdn.example.com/a/${id}.png`,
    user_level: ["normal", "vip", "super"][id % 3],
    is_active: id % 7 !== 0,
    task_count: id % 500,
    rating: Math.round((id % 500) / 10) / 10,
    created_at: "2024-09-16T08:00:00",
  };
}

function legacyValue(kind: Kind, id: number): Buffer | string {
  const compact = JSON.stringify(user(id));
  switch (kind) {
    case "v1-json":
      return compact;
    case "v1-json-spaced": // Python's json.dumps default separators, ASCII-escaped
      return (
        JSON.stringify(user(id), null, 1)
          .replace(/\n ?/g, " ")
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the range names every non-ASCII character on purpose.
          .replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      );
    case "v1-double-json":
      return JSON.stringify(compact);
    case "v1-gzip":
      return gzipSync(compact);
    case "v1-zlib":
      return deflateSync(compact, { level: id % 2 ? 6 : 1 });
  }
}

/** TTL in ms, or -1: 5 % without TTL, the rest spread from 10 minutes to 2 days. */
function ttlFor(id: number): number {
  return id % 20 === 0 ? -1 : 600_000 + ((id * 7919) % (2 * 86_400_000 - 600_000));
}

async function load(redis: Redis, prefix: string, count: number, kinds: Kind[]): Promise<void> {
  const started = performance.now();
  for (let start = 0; start < count; start += 10_000) {
    const pipeline = redis.pipeline();
    for (let id = start; id < Math.min(count, start + 10_000); id++) {
      const value = legacyValue(kinds[id % kinds.length]!, id);
      const ttl = ttlFor(id);
      if (ttl > 0) pipeline.set(`${prefix}${id}`, value, "PX", ttl);
      else pipeline.set(`${prefix}${id}`, value);
    }
    await pipeline.exec();
  }
  log(`loaded ${count} keys under ${prefix} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function ceiling(port: number): Promise<{ setPerSecond: number; getPerSecond: number }> {
  const { stdout } = await run("redis-benchmark", ["-h", "127.0.0.1", "-p", String(port), "-P", "16", "-t", "get,set", "-n", "1000000", "-q"], {
    maxBuffer: 1 << 24,
  });
  const rate = (name: string) => Number(new RegExp(`${name}: ([\\d.]+) requests per second`).exec(stdout.replace(/\r/g, "\n"))?.[1] ?? NaN);
  return { setPerSecond: rate("SET"), getPerSecond: rate("GET") };
}

/** CPU seconds Redis has used so far (`INFO cpu`, user + system, main and background threads). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return field("used_cpu_user") + field("used_cpu_sys");
}

/** Per command: calls and microseconds Redis spent in it (`INFO commandstats`; commands run by a script count under their own name too). */
async function commandStats(redis: Redis): Promise<Record<string, { calls: number; usec: number }>> {
  const info = await redis.info("commandstats");
  const stats: Record<string, { calls: number; usec: number }> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats[match[1]!] = { calls: Number(match[2]), usec: Number(match[3]) };
  return stats;
}

type ToolRun = { report: MigrationReport; wallSeconds: number; toolCpuSeconds: number; redisCpuSeconds: number };

/**
 * Runs the CLI as an operator would; returns its JSON report, the wall time, and the CPU time
 * the tool (from /usr/bin/time) and Redis (from INFO cpu) spent meanwhile.
 */
async function runTool(redis: Redis, url: string, logFile: string): Promise<ToolRun> {
  const redisCpuBefore = await redisCpuSeconds(redis);
  const started = performance.now();
  const args = [CLI, "--redis-url", url, "--json", "--no-progress", "--log-file", logFile, ...TOOL_ARGS];
  const command = [...(NICE ? ["nice", "-n", NICE] : []), process.execPath, ...TOOL_NODE_ARGS, ...args];
  const child = spawn("/usr/bin/time", ["-f", "TOOL_CPU %U %S", ...command], { stdio: ["ignore", "pipe", "pipe"] });
  endWithThisProcess(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = /TOOL_CPU ([\d.]+) ([\d.]+)/.exec(err);
  process.stderr.write(err.replace(/^TOOL_CPU .*\n?/m, ""));
  if (code !== 0) throw new Error(`cache:migrate exited with ${code}`);
  return {
    report: JSON.parse(out) as MigrationReport,
    wallSeconds,
    toolCpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN,
    redisCpuSeconds: (await redisCpuSeconds(redis)) - redisCpuBefore,
  };
}

/** Starts the online reader in its own process (bench/lib/online-reader.ts); `stop()` returns its latencies. */
async function onlineReader(url: string, count: number) {
  const child = spawn(process.execPath, [READER, url, String(count)], { stdio: ["pipe", "pipe", "inherit"] });
  endWithThisProcess(child);
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  while (!out.includes("ready\n")) {
    if (child.exitCode !== null) throw new Error("the online reader exited before it was ready");
    await sleep(10);
  }
  return {
    async stop(): Promise<OnlineReads> {
      child.stdin.end("stop\n");
      const code = await exited;
      if (code !== 0) throw new Error(`the online reader exited with ${code}`);
      return JSON.parse(out.slice(out.indexOf("ready\n") + 6)) as OnlineReads;
    },
  };
}

/** The naive way: per key GET, PTTL, SET, PEXPIRE, each awaited in turn. */
async function naive(redis: Redis, prefix: string, count: number): Promise<{ keys: number; seconds: number; keysPerSecond: number }> {
  const started = performance.now();
  let migrated = 0;
  for (let id = 0; id < count; id++) {
    const key = `${prefix}${id}`;
    const value = await redis.getBuffer(key);
    const pttl = await redis.pttl(key);
    if (!value) continue;
    const outcome = await decodeValue(value);
    if (outcome.kind !== "data" || outcome.format === "v2") continue;
    await redis.set(key, encodeEnvelope(outcome.data));
    if (pttl > 0) await redis.pexpire(key, pttl);
    migrated += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  return { keys: migrated, seconds, keysPerSecond: Math.round(migrated / seconds) };
}

async function main() {
  const machine = { ...machineInfo(), nproc: os.availableParallelism(), loadAverageAtStart: os.loadavg().map((n) => Number(n.toFixed(2))) };
  log(`cache bench on ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAverageAtStart.join(" ")}`);
  const server = await startLocalRedis({ args: ["--maxmemory-policy", "noeviction"] });
  const redis = new Redis(server.url);
  const logDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-cache-bench-"));
  try {
    await load(redis, "user:", KEYS, MIXED);
    const memory = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? NaN);

    log("ceiling: redis-benchmark -P 16 GET+SET");
    const ceil = await ceiling(server.port);
    log(`ceiling SET ${ceil.setPerSecond}/s GET ${ceil.getPerSecond}/s`);

    log("baseline: online profile reads for 10 s with no migration running");
    const idleReader = await onlineReader(server.url, KEYS);
    await sleep(10_000);
    const baseline = await idleReader.stop();
    log(`baseline online p99 ${baseline.p99Ms.toFixed(2)} ms`);

    log(`migrating ${KEYS} mixed keys with cache:migrate while reading profiles online`);
    const reader = await onlineReader(server.url, KEYS);
    const mixed = await runTool(redis, server.url, path.join(logDir, "mixed.log"));
    const online = await reader.stop();
    log(`mixed: ${mixed.report.keysPerSecond} keys/s (wall ${mixed.wallSeconds.toFixed(1)} s), online p99 ${online.p99Ms.toFixed(2)} ms`);
    const secondRun = await runTool(redis, server.url, path.join(logDir, "second.log"));
    log(`second run: migrated ${secondRun.report.migrated}`);

    await redis.flushall();
    await load(redis, "user:", JSON_KEYS, JSON_ONLY);
    await redis.config("RESETSTAT");
    const json = await runTool(redis, server.url, path.join(logDir, "json.log"));
    const jsonCommands = Object.entries(await commandStats(redis))
      .filter(([name]) => !/^(info|config)\b/.test(name)) // the bench's own INFO and CONFIG RESETSTAT
      .map(([name, { calls, usec }]) => ({
        name,
        callsPerKey: Number((calls / json.report.keys).toFixed(3)),
        microsPerKey: Number((usec / json.report.keys).toFixed(2)),
        microsPerCall: Number((usec / Math.max(1, calls)).toFixed(2)),
      }))
      .sort((a, b) => b.microsPerKey - a.microsPerKey);
    /** Commands a script runs here (the rest are the tool's own calls: SCAN, the checkpoint's MULTI…). */
    const inScripts = new Set(["strlen", "pttl", "get", "set", "rpush", "pexpire"]);
    const perKey = (names: (name: string) => boolean) => jsonCommands.filter((c) => names(c.name)).reduce((sum, c) => sum + c.microsPerKey, 0);
    const scriptMicros = perKey((name) => name === "evalsha" || name === "eval");
    const innerMicros = perKey((name) => inScripts.has(name));
    log(`JSON family: ${json.report.keysPerSecond} keys/s`);

    await redis.flushall();
    await load(redis, "user:", NAIVE_KEYS, MIXED);
    const naiveResult = await naive(redis, "user:", NAIVE_KEYS);
    log(`naive loop: ${naiveResult.keysPerSecond} keys/s`);

    const speedup = Number((mixed.report.keysPerSecond / naiveResult.keysPerSecond).toFixed(1));
    const summarize = (r: ToolRun) => ({
      keysPerSecond: r.report.keysPerSecond,
      wallSeconds: Number(r.wallSeconds.toFixed(1)),
      toolCpuSeconds: Number(r.toolCpuSeconds.toFixed(2)),
      redisCpuSeconds: Number(r.redisCpuSeconds.toFixed(2)),
      toolCpuMicrosPerKey: Number(((r.toolCpuSeconds / r.report.keys) * 1e6).toFixed(1)),
      redisCpuMicrosPerKey: Number(((r.redisCpuSeconds / r.report.keys) * 1e6).toFixed(1)),
      keys: r.report.keys,
      migrated: r.report.migrated,
      skipped: r.report.skipped,
      migratedFrom: r.report.migratedFrom,
      failed: r.report.failed,
      retries: r.report.retries,
      ttl: r.report.ttl,
      size: r.report.size,
    });
    const result = {
      machine: { ...machine, loadAverageAtEnd: os.loadavg().map((n) => Number(n.toFixed(2))) },
      dataset: {
        keys: KEYS,
        mix: "45 % compact JSON, 15 % spaced JSON, 15 % double-encoded JSON, 15 % gzip, 10 % zlib; 5 % without TTL",
        redisUsedMemoryMiB: Math.round(memory / 2 ** 20),
      },
      ceiling: { tool: "redis-benchmark -P 16 -t get,set -n 1000000", ...ceil },
      onlineReadsWithoutMigration: baseline,
      mixed: { ...summarize(mixed), onlineReads: online },
      secondRun: { migrated: secondRun.report.migrated, skipped: secondRun.report.skipped },
      jsonFamily: { ...summarize(json), redisCommands: jsonCommands },
      naive: { ...naiveResult, method: "per key GET, PTTL, SET, PEXPIRE awaited in sequence" },
      speedupVsNaive: speedup,
      targets: TARGETS,
      met: {
        jsonFamilyKeysPerSecond: json.report.keysPerSecond >= TARGETS.jsonFamilyKeysPerSecond,
        speedupVsNaive: speedup >= TARGETS.speedupVsNaive,
        onlineReadP99Ms: online.p99Ms < TARGETS.onlineReadP99Ms,
      },
    };
    const yes = (ok: boolean) => (ok ? "met" : "**not met**");
    const markdown = `# Cache migration benchmark

${result.machine.date} · ${machine.nproc} × ${machine.cpuModel} · node ${machine.node} · ${machine.redis}
Load average at start ${machine.loadAverageAtStart.join(" / ")}, at end ${result.machine.loadAverageAtEnd.join(" / ")} (other work shared the machine).

Dataset: ${KEYS.toLocaleString("en")} \`user:{id}\` keys — ${result.dataset.mix}; ${result.dataset.redisUsedMemoryMiB} MiB in Redis.

| measure | result | target |
|---|---|---|
| \`cache:migrate\`, mixed 1M keys | **${mixed.report.keysPerSecond.toLocaleString("en")} keys/s** (${result.mixed.wallSeconds} s wall incl. start-up) | — |
| \`cache:migrate\`, JSON family (${JSON_KEYS.toLocaleString("en")} keys) | **${json.report.keysPerSecond.toLocaleString("en")} keys/s** | ≥ 100,000 keys/s — ${yes(result.met.jsonFamilyKeysPerSecond)} |
| naive loop (GET, PTTL, SET, PEXPIRE per key) | ${naiveResult.keysPerSecond.toLocaleString("en")} keys/s | — |
| speed-up of the tool over the naive loop | **${speedup}×** | ≥ 5× — ${yes(result.met.speedupVsNaive)} |
| online profile reads during the mixed run | p50 ${online.p50Ms.toFixed(2)} ms, **p99 ${online.p99Ms.toFixed(2)} ms**, max ${online.maxMs.toFixed(1)} ms (${online.reads} reads) | p99 < 5 ms — ${yes(result.met.onlineReadP99Ms)} |
| the same reads for 10 s before, no migration running | p50 ${baseline.p50Ms.toFixed(2)} ms, p99 ${baseline.p99Ms.toFixed(2)} ms, max ${baseline.maxMs.toFixed(1)} ms (${baseline.reads} reads) | (baseline) |
| ceiling: \`redis-benchmark -P 16\` on the same Redis | SET ${Math.round(ceil.setPerSecond).toLocaleString("en")}/s, GET ${Math.round(ceil.getPerSecond).toLocaleString("en")}/s | — |
| second full run | migrated ${secondRun.report.migrated}, skipped ${secondRun.report.skipped} | 0 migrated |

Mixed run: migrated ${mixed.report.migrated.toLocaleString("en")} (${Object.entries(mixed.report.migratedFrom)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ", ",
      )}), skipped ${mixed.report.skipped.toLocaleString("en")} (already rewritten by the online reads, dual mode), failed ${mixed.report.failed}, retries ${mixed.report.retries}.
The tool ran as its own process with ${TOOL_ARGS.length ? `\`${TOOL_ARGS.join(" ")}\`` : "default options"}${NICE ? ` under \`nice -n ${NICE}\`` : ""} (5 MB / 100 ms batch bounds, calls of 100 keys, 2 calls in flight, decision log sampled at 10 % to a file); the online reader ran as a separate process with its own connection, one read every ~2 ms.

Where the time goes (CPU seconds during each run; the tool from \`/usr/bin/time\`, Redis from \`INFO cpu\`):

| run | wall | tool CPU | Redis CPU | per key: tool / Redis |
|---|---|---|---|---|
| mixed | ${result.mixed.wallSeconds} s | ${result.mixed.toolCpuSeconds} s | ${result.mixed.redisCpuSeconds} s | ${result.mixed.toolCpuMicrosPerKey} µs / ${result.mixed.redisCpuMicrosPerKey} µs |
| JSON family | ${result.jsonFamily.wallSeconds} s | ${result.jsonFamily.toolCpuSeconds} s | ${result.jsonFamily.redisCpuSeconds} s | ${result.jsonFamily.toolCpuMicrosPerKey} µs / ${result.jsonFamily.redisCpuMicrosPerKey} µs |

Over the runs the tool and Redis together used ${((result.mixed.toolCpuSeconds + result.mixed.redisCpuSeconds) / result.mixed.wallSeconds).toFixed(2)} (mixed) and ${((result.jsonFamily.toolCpuSeconds + result.jsonFamily.redisCpuSeconds) / result.jsonFamily.wallSeconds).toFixed(2)} (JSON family) of the ${machine.nproc} cores; the rest went to the online reader and to other work on the machine.

Inside Redis during the JSON-family run (\`INFO commandstats\` after \`CONFIG RESETSTAT\`; a script's own commands are counted under their names as well as inside \`evalsha\`, whose time includes them and the Lua around them):

| command | calls a key | µs a key | µs a call |
|---|---|---|---|
${jsonCommands.map((c) => `| \`${c.name}\` | ${c.callsPerKey} | ${c.microsPerKey} | ${c.microsPerCall} |`).join("\n")}

Each key costs the tool one SCAN slot, one Lua read (PTTL, then GETRANGE within the call's byte budget; STRLEN and GET for a call's first key) and one Lua compare-and-set (SET … KEEPTTL GET) — three commands inside scripts — so its rate is a fraction of the single-command ceiling above. Of the scripts' ${scriptMicros.toFixed(2)} µs a key, the commands inside them are ${innerMicros.toFixed(2)} µs and the Lua around them (arguments in, values into Lua strings and back out, the reply) ${(scriptMicros - innerMicros).toFixed(2)} µs; the first command to touch a key (\`strlen\`) pays the memory misses the later ones do not. At 100,000 keys/s the tool and Redis together would have to stay under ${((machine.nproc * 1e6) / TARGETS.jsonFamilyKeysPerSecond).toFixed(0)} µs of CPU a key on ${machine.nproc} cores; here they used ${(result.jsonFamily.toolCpuMicrosPerKey + result.jsonFamily.redisCpuMicrosPerKey).toFixed(1)} µs, a ceiling of ${Math.round((machine.nproc * 1e6) / (result.jsonFamily.toolCpuMicrosPerKey + result.jsonFamily.redisCpuMicrosPerKey)).toLocaleString("en")} keys/s with perfect overlap and nothing else running.
`;
    const paths = await writeReport("cache-bench", result, markdown);
    log(`wrote ${paths.join(", ")}`);
  } finally {
    redis.disconnect();
    await server.stop();
    await rm(logDir, { recursive: true, force: true });
  }
}

await main();
