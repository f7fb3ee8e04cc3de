/**
 * `npm run bench:login` — what parallel password guessing costs another user, on loopback only.
 * One server process per setting; GUESSERS clients (each from its own loopback address, one
 * request at a time) send wrong passwords for alice while bob reads his unread count in a loop
 * and carol logs in once every 250 ms from yet another address. Reported: bob's and carol's
 * latency p50/p99, guesses answered per status, for
 *  1. quiet (no guessing),
 *  2. guessing with the login limits at their defaults (guesses soon get 429, unhashed),
 *  3. guessing with the limits lifted and hashing bounded (PASSWORD_HASH_CONCURRENCY=2, default),
 *  4. guessing with the limits lifted and hashing effectively unbounded (64): the old behaviour.
 * Knobs: BENCH_LOGIN_GUESSERS (8), BENCH_LOGIN_S (10).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { RestPath, type LoginResponse } from "../shared/protocol/index.js";
import { freePort, startLocalRedis } from "../server/src/redis/local-redis-server.js";
import { log, machineInfo, percentile, writeReport } from "./lib/report.js";
import { endWithThisProcess } from "./lib/children.js";
import { SERVER_ENTRY } from "./lib/build-entry.js";

const GUESSERS = Number(process.env.BENCH_LOGIN_GUESSERS ?? 8);
const DURATION_S = Number(process.env.BENCH_LOGIN_S ?? 10);
const LIFTED_LIMITS = { LOGIN_MAX_FAILURES_PER_USER_IP: "1000000", LOGIN_MAX_FAILURES_PER_IP: "1000000" };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One JSON request from `localAddress` on a keep-alive agent bound to that address. */
function post(
  agent: Agent,
  url: string,
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...(payload ? { "content-type": "application/json" } : {}), ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - started }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const agentFrom = (localAddress: string) => new Agent({ keepAlive: true, localAddress, maxSockets: 1 });

async function startServer(env: Record<string, string>, redisUrl: string): Promise<{ child: ChildProcess; base: string; dataDir: string }> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-login-bench-"));
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", REDIS_URL: redisUrl, DATA_DIR: dataDir, LOG_LEVEL: "warn", SWITCHBOARD_QUIET: "1", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  endWithThisProcess(child);
  const base = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 120_000; waited += 200) {
    if (
      await fetch(`${base}${RestPath.healthz}`).then(
        (res) => res.ok,
        () => false,
      )
    )
      return { child, base, dataDir };
    await sleep(200);
  }
  child.kill("SIGKILL");
  throw new Error("server did not start within 120 s");
}

interface ScenarioResult {
  scenario: string;
  unreadCount: { requests: number; p50Ms: number; p99Ms: number };
  realLogin: { requests: number; ok: number; p50Ms: number; p99Ms: number };
  guesses: Record<string, number>;
}

async function run(scenario: string, base: string, guessers: number): Promise<ScenarioResult> {
  const bobAgent = agentFrom("127.0.0.1");
  const bob = JSON.parse((await post(bobAgent, `${base}${RestPath.login}`, "POST", { username: "bob", password: "demo" })).text) as LoginResponse;
  // Warm the route (JIT, database pages) before measuring.
  for (let warm = 0; warm < 20; warm += 1)
    await post(bobAgent, `${base}${RestPath.unreadCount}`, "GET", undefined, { authorization: `Bearer ${bob.accessToken}` });
  const deadline = Date.now() + DURATION_S * 1000;
  const guesses: Record<string, number> = {};
  const guessing = Array.from({ length: guessers }, async (_, index) => {
    const agent = agentFrom(`127.0.1.${index + 1}`);
    for (let guess = 0; Date.now() < deadline; guess += 1) {
      const { status } = await post(agent, `${base}${RestPath.login}`, "POST", { username: "alice", password: `guess-${index}-${guess}` });
      guesses[status] = (guesses[status] ?? 0) + 1;
      if (status === 429) await sleep(50); // a refused guesser retries, but not in a tight loop
    }
    agent.destroy();
  });
  const unread: number[] = [];
  const reading = (async () => {
    while (Date.now() < deadline)
      unread.push((await post(bobAgent, `${base}${RestPath.unreadCount}`, "GET", undefined, { authorization: `Bearer ${bob.accessToken}` })).ms);
  })();
  const logins: Array<{ ok: boolean; ms: number }> = [];
  const loggingIn = (async () => {
    const agent = agentFrom("127.0.2.1");
    while (Date.now() < deadline) {
      const { status, ms } = await post(agent, `${base}${RestPath.login}`, "POST", { username: "carol", password: "demo" });
      logins.push({ ok: status === 200, ms });
      await sleep(250);
    }
    agent.destroy();
  })();
  await Promise.all([...guessing, reading, loggingIn]);
  bobAgent.destroy();
  const sortedUnread = [...unread].sort((a, b) => a - b);
  const sortedLogins = logins.map((login) => login.ms).sort((a, b) => a - b);
  const result: ScenarioResult = {
    scenario,
    unreadCount: { requests: unread.length, p50Ms: +percentile(sortedUnread, 50).toFixed(1), p99Ms: +percentile(sortedUnread, 99).toFixed(1) },
    realLogin: {
      requests: logins.length,
      ok: logins.filter((login) => login.ok).length,
      p50Ms: +percentile(sortedLogins, 50).toFixed(1),
      p99Ms: +percentile(sortedLogins, 99).toFixed(1),
    },
    guesses,
  };
  log(`${scenario}: ${JSON.stringify(result)}`);
  return result;
}

async function main(): Promise<void> {
  const redis = await startLocalRedis();
  const results: ScenarioResult[] = [];
  const settings: Array<{ name: string; env: Record<string, string>; scenarios: Array<[string, number]> }> = [
    {
      name: "defaults",
      env: {},
      scenarios: [
        ["quiet", 0],
        [`${GUESSERS} guessers, default login limits`, GUESSERS],
      ],
    },
    {
      name: "bounded",
      env: { ...LIFTED_LIMITS, PASSWORD_HASH_CONCURRENCY: "2" },
      scenarios: [[`${GUESSERS} guessers, limits lifted, hashing bounded to 2`, GUESSERS]],
    },
    {
      name: "unbounded",
      env: { ...LIFTED_LIMITS, PASSWORD_HASH_CONCURRENCY: "64", PASSWORD_HASH_QUEUE_MAX: "1000" },
      scenarios: [[`${GUESSERS} guessers, limits lifted, hashing unbounded (before)`, GUESSERS]],
    },
  ];
  try {
    for (const setting of settings) {
      // Each setting starts from no counters.
      const client = new Redis(redis.url);
      await client.flushall();
      client.disconnect();
      const server = await startServer(setting.env, redis.url);
      try {
        for (const [scenario, guessers] of setting.scenarios) results.push(await run(scenario, server.base, guessers));
      } finally {
        server.child.kill("SIGTERM");
        await new Promise((resolve) => server.child.once("exit", resolve));
        await rm(server.dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await redis.stop();
  }
  const machine = machineInfo();
  const rows = results.map(
    (r) =>
      `| ${r.scenario} | ${r.unreadCount.p50Ms} ms / ${r.unreadCount.p99Ms} ms | ${r.realLogin.ok}/${r.realLogin.requests}, ${r.realLogin.p50Ms} ms / ${r.realLogin.p99Ms} ms | ${
        Object.entries(r.guesses)
          .map(([status, count]) => `${count} × ${status}`)
          .join(", ") || "—"
      } |`,
  );
  const markdown = [
    "# Login guessing bench",
    "",
    `${GUESSERS} guessers, ${DURATION_S} s per scenario; machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.node}, load average ${machine.loadAverage.join(" / ")}, ${machine.date}.`,
    "",
    "| scenario | bob's unread count p50 / p99 | carol's logins ok, p50 / p99 | guesses answered |",
    "|---|---|---|---|",
    ...rows,
  ].join("\n");
  const paths = await writeReport("login-bench", { machine, guessers: GUESSERS, durationS: DURATION_S, results }, markdown);
  log(`wrote ${paths.join(", ")}`);
}

void main().catch((error: unknown) => {
  log(`login bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
