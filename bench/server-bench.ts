/**
 * `npm run bench:server` — the single-instance server under load, on loopback only:
 *  1. replacement storm: USERS × 5 concurrent connects → settle time, survivors, close reasons;
 *  2. idle capacity: as many authenticated, heart-beating sockets as one process holds → RSS per
 *     socket, event-loop delay p99, CPU;
 *  3. profile: requests/s and p99 for 200 vs 304 (autocannon), DB queries per request (warm);
 *  4. flood isolation: one user floods `send` frames (10,000 per connect, reconnecting after 100 ms)
 *     while 1,000 others send normally → the others' delivery latency p50/p99 without and with
 *     the flood (default limits), and their ratio;
 *  5. cost of the limits on a send: messages/s of pipelining senders with budgets on (never
 *     reached) vs off (`RATE_LIMIT_*_PER_S=0`), two servers measured alternately.
 * The server runs as its own process (so client sockets don't count in its RSS).
 * Knobs: BENCH_SECTIONS (storm,idle,profile,flood,cost), BENCH_STORM_USERS (1000),
 * BENCH_IDLE_SOCKETS (20000), BENCH_IDLE_HOLD_S (60), BENCH_HTTP_S (10), BENCH_FLOOD_OTHERS (1000),
 * BENCH_FLOOD_PHASE_S (15), BENCH_NORMAL_SEND_EVERY_MS (5000), BENCH_COST_SENDERS (20),
 * BENCH_COST_S (5), BENCH_COST_ROUNDS (3).
 */
import { randomUUID } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { Worker } from "node:worker_threads";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import WebSocket from "ws";
import { ClientFrameType, CloseCode, CloseReason, EventKind, ServerFrameType, type ServerFrame } from "../shared/protocol/index.js";
import { TokenService } from "../server/src/auth/tokens.js";
import { freePort, startLocalRedis } from "../server/src/redis/local-redis-server.js";
import type { Store } from "../server/src/store/store.js";
import { copyDataDir, createBenchUsersDataDir } from "./lib/bench-users.js";
import { openChatSocket, untilLive } from "./lib/chat-socket.js";
import { openFilesLimit, raiseOpenFilesLimit } from "./lib/limits.js";
import { log, machineInfo, percentile, writeReport } from "./lib/report.js";
import { endWithThisProcess } from "./lib/children.js";
import { SERVER_ENTRY } from "./lib/build-entry.js";

const STORM_USERS = Number(process.env.BENCH_STORM_USERS ?? 1000);
const STORM_PER_USER = 5;
const REQUESTED_IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 20_000);
/** Descriptors besides the sockets: Redis, the database files, stdio, epoll, the listener… (≈ 40 seen). */
const FD_HEADROOM = 150;
const IDLE_HOLD_S = Number(process.env.BENCH_IDLE_HOLD_S ?? 60);
const HTTP_S = Number(process.env.BENCH_HTTP_S ?? 10);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? "storm,idle,profile,flood,cost").split(",").map((s) => s.trim()));
const FLOOD_OTHERS = Number(process.env.BENCH_FLOOD_OTHERS ?? 1000);
const FLOOD_PHASE_S = Number(process.env.BENCH_FLOOD_PHASE_S ?? 15);
/** A person chatting: one message every few seconds. */
const NORMAL_SEND_EVERY_MS = Number(process.env.BENCH_NORMAL_SEND_EVERY_MS ?? 5000);
/** The observed attack (issue 9): 10,000 `send` frames in one burst. */
const FLOOD_BURST = 10_000;
const COST_SENDERS = Number(process.env.BENCH_COST_SENDERS ?? 20);
const COST_S = Number(process.env.BENCH_COST_S ?? 5);
const COST_ROUNDS = Number(process.env.BENCH_COST_ROUNDS ?? 3);
/** Sends in flight per cost sender (pipelined; the next goes out on each ack). */
const COST_WINDOW = 20;
const SECRET = "bench-secret-bench-secret-bench-secret-0123";
const HEARTBEAT_MS = 20_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line ? Number(line.split(" ").at(-1)) : NaN;
}

async function startServer(port: number, redisUrl: string, dataDir: string, extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_URL: redisUrl,
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
      LOG_LEVEL: "warn",
      SWITCHBOARD_QUIET: "1",
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      ACCESS_TOKEN_TTL_S: "3600",
      ...extraEnv,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  endWithThisProcess(child);
  // Each socket is one descriptor in the server (and one here): lift both processes' open-files
  // limit past the socket count, as `LimitNOFILE=` would for the service.
  raiseOpenFilesLimit(child.pid!, REQUESTED_IDLE_SOCKETS + FD_HEADROOM);
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // starting
    }
    await sleep(100);
  }
  throw new Error("server did not start");
}

async function replacementStorm(base: string, wsBase: string, tokens: string[]) {
  log(`replacement storm: ${STORM_USERS} users × ${STORM_PER_USER} concurrent connects`);
  const sockets: Array<{ ws: WebSocket; close?: { code: number; reason: string } }> = [];
  const started = performance.now();
  for (let u = 1; u <= STORM_USERS; u++) {
    for (let k = 0; k < STORM_PER_USER; k++) {
      const entry: (typeof sockets)[number] = { ws: openChatSocket(wsBase, u, tokens[u]!) };
      entry.ws.once("close", (code, reason) => (entry.close = { code, reason: reason.toString() }));
      sockets.push(entry);
    }
  }
  const expectedClosed = STORM_USERS * (STORM_PER_USER - 1);
  let settledAt = NaN;
  for (let i = 0; i < 1200; i++) {
    const closed = sockets.filter((s) => s.close).length;
    const open = sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length;
    if (closed >= expectedClosed && open + closed === sockets.length) {
      settledAt = performance.now();
      break;
    }
    await sleep(25);
  }
  await sleep(500);
  const survivors = sockets.filter((s) => s.ws.readyState === WebSocket.OPEN);
  const perUser = new Map<number, number>();
  sockets.forEach((s, i) => {
    const user = Math.floor(i / STORM_PER_USER) + 1;
    if (s.ws.readyState === WebSocket.OPEN) perUser.set(user, (perUser.get(user) ?? 0) + 1);
  });
  const reasons: Record<string, number> = {};
  for (const s of sockets) if (s.close) reasons[`${s.close.code} ${s.close.reason}`] = (reasons[`${s.close.code} ${s.close.reason}`] ?? 0) + 1;
  const serverConnections = await metric(base, "switchboard_ws_connections");
  const result = {
    users: STORM_USERS,
    connectsPerUser: STORM_PER_USER,
    settleMs: Math.round(settledAt - started),
    survivors: survivors.length,
    usersWithExactlyOneSocket: [...perUser.values()].filter((n) => n === 1).length,
    serverConnections,
    replacedWithExactReason: reasons[`${CloseCode.normal} ${CloseReason.replaced}`] ?? 0,
    closeReasons: reasons,
  };
  for (const s of survivors) s.ws.close();
  await sleep(1000);
  return result;
}

async function idleCapacity(base: string, wsBase: string, tokenService: TokenService, socketCount: number) {
  log(`idle capacity: opening ${socketCount} sockets (one per user)`);
  const baselineRss = await metric(base, "switchboard_process_process_resident_memory_bytes");
  const baselineCpu = await metric(base, "switchboard_process_process_cpu_seconds_total");
  const sockets: WebSocket[] = [];
  let failed = 0;
  const started = performance.now();
  const BATCH = 250;
  for (let first = 1; first <= socketCount; first += BATCH) {
    const batch: Array<Promise<void>> = [];
    for (let u = first; u < first + BATCH && u <= socketCount; u++) {
      const userId = 100_000 + u;
      const token = await tokenService.issueAccess({ userId, role: "user", sessionId: randomUUID() });
      const ws = openChatSocket(wsBase, userId, token);
      sockets.push(ws);
      batch.push(
        new Promise((resolve) => {
          ws.once("message", () => resolve()); // welcome
          ws.once("close", () => {
            failed++;
            resolve();
          });
        }),
      );
    }
    await Promise.all(batch);
    if ((first - 1) % 5000 === 0) log(`  ${sockets.length} opened`);
  }
  const openMs = performance.now() - started;
  const openCount = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  log(`  ${openCount} open (${failed} failed) in ${Math.round(openMs)} ms; holding ${IDLE_HOLD_S} s`);
  const lagSamples: number[] = [];
  const rssSamples: number[] = [];
  const holdStart = Date.now();
  const cpuAtHoldStart = await metric(base, "switchboard_process_process_cpu_seconds_total");
  let pings = 0;
  for (const s of sockets) s.on("ping", () => pings++);
  while (Date.now() - holdStart < IDLE_HOLD_S * 1000) {
    await sleep(5000);
    lagSamples.push(await metric(base, "switchboard_process_nodejs_eventloop_lag_p99_seconds"));
    rssSamples.push(await metric(base, "switchboard_process_process_resident_memory_bytes"));
  }
  const cpuAtHoldEnd = await metric(base, "switchboard_process_process_cpu_seconds_total");
  const stillOpen = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  const serverConnections = await metric(base, "switchboard_ws_connections");
  const rss = Math.max(...rssSamples);
  const result = {
    requested: socketCount,
    opened: openCount,
    failed,
    openSeconds: +(openMs / 1000).toFixed(1),
    holdSeconds: IDLE_HOLD_S,
    stillOpenAfterHold: stillOpen,
    serverConnections,
    protocolPingsAnsweredByClients: pings,
    baselineRssMiB: +(baselineRss / 2 ** 20).toFixed(1),
    heldRssMiB: +(rss / 2 ** 20).toFixed(1),
    rssPerSocketKiB: +((rss - baselineRss) / openCount / 1024).toFixed(2),
    eventLoopLagP99MsMax: +(Math.max(...lagSamples) * 1000).toFixed(1),
    eventLoopLagP99MsMedian: +(lagSamples.sort((a, b) => a - b)[Math.floor(lagSamples.length / 2)]! * 1000).toFixed(1),
    cpuPercentOfOneCoreWhileIdle: +(((cpuAtHoldEnd - cpuAtHoldStart) / ((Date.now() - holdStart) / 1000)) * 100).toFixed(2),
    cpuSecondsToOpen: +(cpuAtHoldStart - baselineCpu).toFixed(2),
  };
  log(`  closing`);
  for (const s of sockets) s.terminate();
  await sleep(2000);
  return result;
}

async function profileLoad(base: string) {
  const login = (await (
    await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "demo" }),
    })
  ).json()) as { accessToken: string };
  const auth = `Bearer ${login.accessToken}`;
  const first = await fetch(`${base}/api/users/profile/me`, { headers: { authorization: auth } });
  const etag = first.headers.get("etag")!;
  const run = async (label: string, headers: Record<string, string>) => {
    log(`profile ${label}: autocannon ${HTTP_S} s, 50 connections`);
    const dbBefore = await metric(base, "switchboard_db_queries_total");
    const result = await autocannon({ url: `${base}/api/users/profile/me`, connections: 50, duration: HTTP_S, headers: { authorization: auth, ...headers } });
    const dbAfter = await metric(base, "switchboard_db_queries_total");
    const requests = result.requests.total;
    return {
      status: label,
      requestsPerSecond: Math.round(result.requests.average),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      requests,
      non2xx: result.non2xx,
      statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, (v as { count: number }).count])),
      dbQueriesPerRequest: +((dbAfter - dbBefore) / requests).toFixed(4),
      errors: result.errors,
    };
  };
  return [await run("200", {}), await run("304", { "if-none-match": etag })];
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

/** p50 / p99 / max in ms, rounded. */
function latencySummary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => +n.toFixed(1);
  return { count: sorted.length, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted.at(-1) ?? NaN) };
}

/**
 * 1,000 users send one message every few seconds to a partner (pairs, both connected); their
 * delivery latency (send → the partner's `event`, one clock: this process) is timed for a phase
 * without and a phase with one user flooding. The flood runs in a worker thread so its 10,000
 * `ws.send` calls do not stall this thread's timing. Server on its default limits.
 */
async function floodIsolation(template: string, tokenService: TokenService) {
  log(`flood isolation: ${FLOOD_OTHERS} users sending every ${NORMAL_SEND_EVERY_MS} ms; ${FLOOD_PHASE_S} s without, ${FLOOD_PHASE_S} s with one user flooding`);
  const redis = await startLocalRedis();
  const dataDir = await copyDataDir(template);
  const port = await freePort();
  const server = await startServer(port, redis.url, dataDir);
  const wsBase = `ws://127.0.0.1:${port}`;
  // Users: 1 floods user 2; 3 … FLOOD_OTHERS + 2 chat in pairs (3↔4, 5↔6, …).
  const FLOODER = 1;
  const FLOOD_TARGET = 2;
  const firstOther = 3;
  const partnerOf = (u: number) => ((u - firstOther) % 2 === 0 ? u + 1 : u - 1);
  let phase: "warmup" | "baseline" | "flood" | "drain" = "warmup";
  const latencies: Record<"baseline" | "flood", number[]> = { baseline: [], flood: [] };
  const sent: Record<"baseline" | "flood", number> = { baseline: 0, flood: 0 };
  let otherRefusals = 0;
  const sockets: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    for (let first = firstOther; first < firstOther + FLOOD_OTHERS; first += 250) {
      const batch: Array<Promise<void>> = [];
      for (let u = first; u < Math.min(first + 250, firstOther + FLOOD_OTHERS); u++) {
        const ws = openChatSocket(wsBase, u, await tokenService.issueAccess({ userId: u, role: "user", sessionId: randomUUID() }));
        sockets.push(ws);
        ws.on("message", (data) => {
          const frame = JSON.parse(data.toString()) as ServerFrame;
          if (frame.type === ServerFrameType.error) otherRefusals += 1;
          if (frame.type !== ServerFrameType.event || frame.event.kind !== EventKind.message || frame.event.message.to !== u) return;
          const [tag, sentPhase, sentAt] = frame.event.message.body.split(":");
          if (tag !== "t" || (sentPhase !== "baseline" && sentPhase !== "flood")) return;
          latencies[sentPhase].push(performance.now() - Number(sentAt));
        });
        batch.push(untilLive(ws));
      }
      await Promise.all(batch);
    }
    log(`  ${sockets.length} users connected`);
    sockets.forEach((ws, i) => {
      const u = firstOther + i;
      let n = 0;
      const sendOne = () => {
        if (phase === "drain" || ws.readyState !== WebSocket.OPEN) return;
        if (phase !== "warmup") sent[phase] += 1;
        ws.send(JSON.stringify({ type: ClientFrameType.send, clientMsgId: `n-${u}-${n++}`, to: partnerOf(u), body: `t:${phase}:${performance.now()}` }));
      };
      // Spread the senders over the interval, as people are.
      timers.push(setTimeout(() => timers.push(setInterval(sendOne, NORMAL_SEND_EVERY_MS)), Math.random() * NORMAL_SEND_EVERY_MS));
    });
    // Warm-up: every user sends twice before anything is measured, so the baseline does not count
    // each connection's first message (cold code paths, the first batches) against the quiet phase.
    await sleep(2 * NORMAL_SEND_EVERY_MS + 1000);
    phase = "baseline";
    await sleep(FLOOD_PHASE_S * 1000);
    phase = "flood";
    const flooder = new Worker(new URL("./lib/flooder-worker.js", import.meta.url), {
      workerData: {
        wsUrl: wsBase,
        userId: FLOODER,
        token: await tokenService.issueAccess({ userId: FLOODER, role: "user", sessionId: randomUUID() }),
        to: FLOOD_TARGET,
        burst: FLOOD_BURST,
      },
    });
    await sleep(FLOOD_PHASE_S * 1000);
    phase = "drain";
    const floodTotals = await new Promise<unknown>((resolve) => {
      flooder.once("message", resolve);
      flooder.postMessage("stop");
    });
    await flooder.terminate();
    await sleep(2000); // deliveries still on their way
    const baseline = latencySummary(latencies.baseline);
    const flood = latencySummary(latencies.flood);
    return {
      others: FLOOD_OTHERS,
      normalSendEveryMs: NORMAL_SEND_EVERY_MS,
      phaseSeconds: FLOOD_PHASE_S,
      floodBurst: FLOOD_BURST,
      baseline: { ...baseline, sent: sent.baseline },
      flood: { ...flood, sent: sent.flood },
      p99Ratio: +(flood.p99Ms / baseline.p99Ms).toFixed(2),
      othersRateLimitedOrErrors: otherRefusals,
      flooder: floodTotals,
      rateLimitCloses: await metric(`http://127.0.0.1:${port}`, "switchboard_ws_rate_limit_closes_total"),
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    for (const ws of sockets) ws.terminate();
    await stopServer(server);
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Every budget on but out of reach (the checks run on every frame), or every budget off. */
const LIMITS_ON_UNREACHED: Record<string, string> = Object.fromEntries(
  ["SEND", "READ", "RESUME", "PING"].flatMap((kind) => [
    [`RATE_LIMIT_${kind}_PER_S`, "1000000"],
    [`RATE_LIMIT_${kind}_BURST`, "1000000"],
  ]),
);
const LIMITS_OFF: Record<string, string> = Object.fromEntries(["SEND", "READ", "RESUME", "PING"].map((kind) => [`RATE_LIMIT_${kind}_PER_S`, "0"]));

/** COST_SENDERS sockets, each keeping COST_WINDOW sends in flight for COST_S seconds → acks per second. */
async function sendThroughput(wsBase: string, tokenService: TokenService, round: number): Promise<number> {
  const sockets: WebSocket[] = [];
  let acks = 0;
  let running = true;
  for (let u = 1; u <= COST_SENDERS; u++) {
    const ws = openChatSocket(wsBase, u, await tokenService.issueAccess({ userId: u, role: "user", sessionId: randomUUID() }));
    sockets.push(ws);
    let n = 0;
    const to = u === COST_SENDERS ? 1 : u + 1;
    const sendOne = () => ws.send(JSON.stringify({ type: ClientFrameType.send, clientMsgId: `c${round}-${u}-${n++}`, to, body: "cost" }));
    ws.on("message", (data) => {
      if ((JSON.parse(data.toString()) as ServerFrame).type !== ServerFrameType.ack) return;
      if (running) acks += 1;
      if (running) sendOne();
    });
    await untilLive(ws);
  }
  const started = performance.now();
  for (const ws of sockets)
    for (let i = 0; i < COST_WINDOW; i++)
      ws.send(JSON.stringify({ type: ClientFrameType.send, clientMsgId: `c${round}-w-${Math.random()}`, to: 1, body: "cost" }));
  await sleep(COST_S * 1000);
  running = false;
  const perSecond = acks / ((performance.now() - started) / 1000);
  for (const ws of sockets) ws.terminate();
  await sleep(1000);
  return Math.round(perSecond);
}

/** The same load on two servers — limits on (unreached) and off — alternately, so both see the same machine. */
async function limitsCost(template: string, tokenService: TokenService) {
  log(`cost of the limits: ${COST_SENDERS} senders × ${COST_WINDOW} in flight, ${COST_S} s, ${COST_ROUNDS} rounds on each of two servers`);
  const setups = [
    { name: "on", env: LIMITS_ON_UNREACHED },
    { name: "off", env: LIMITS_OFF },
  ] as const;
  const running = await Promise.all(
    setups.map(async (setup) => {
      const redis = await startLocalRedis();
      const dataDir = await copyDataDir(template);
      const port = await freePort();
      return { ...setup, redis, dataDir, port, server: await startServer(port, redis.url, dataDir, setup.env), results: [] as number[] };
    }),
  );
  try {
    for (let round = 0; round < COST_ROUNDS; round++) {
      // Alternate which goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 0 ? running : [...running].reverse();
      for (const setup of order) {
        const perSecond = await sendThroughput(`ws://127.0.0.1:${setup.port}`, tokenService, round);
        setup.results.push(perSecond);
        log(`  limits ${setup.name}: ${perSecond} msgs/s`);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const on = running.find((s) => s.name === "on")!;
    const off = running.find((s) => s.name === "off")!;
    return {
      senders: COST_SENDERS,
      window: COST_WINDOW,
      seconds: COST_S,
      rounds: COST_ROUNDS,
      limitsOnMsgsPerS: on.results,
      limitsOffMsgsPerS: off.results,
      medianOn: median(on.results),
      medianOff: median(off.results),
      onOverOff: +(median(on.results) / median(off.results)).toFixed(3),
    };
  } finally {
    for (const setup of running) {
      await stopServer(setup.server);
      await setup.redis.stop();
      await rm(setup.dataDir, { recursive: true, force: true });
    }
  }
}

async function main() {
  const redis = await startLocalRedis();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const wsBase = `ws://127.0.0.1:${port}`;
  raiseOpenFilesLimit(process.pid, REQUESTED_IDLE_SOCKETS + FD_HEADROOM);
  const server = await startServer(port, redis.url, dataDir);
  const tokenService = new TokenService(SECRET, null as unknown as Store, { accessTtlS: 3600, refreshTtlS: 3600 });
  let usersTemplate: string | null = null;
  try {
    const tokens: string[] = [];
    for (let u = 1; u <= STORM_USERS; u++) tokens[u] = await tokenService.issueAccess({ userId: u, role: "user", sessionId: randomUUID() });
    const profile = SECTIONS.has("profile") ? await profileLoad(base) : null;
    const storm = SECTIONS.has("storm") ? await replacementStorm(base, wsBase, tokens) : null;
    const fdLimits = { bench: openFilesLimit(), server: openFilesLimit(server.pid!) };
    const idleSockets = Math.min(REQUESTED_IDLE_SOCKETS, fdLimits.bench - FD_HEADROOM, fdLimits.server - FD_HEADROOM);
    if (SECTIONS.has("idle") && idleSockets < REQUESTED_IDLE_SOCKETS)
      log(
        `open-files limit (bench ${fdLimits.bench}, server ${fdLimits.server}) caps the idle test at ${idleSockets} sockets; raising it needs CAP_SYS_RESOURCE (LimitNOFILE for a service)`,
      );
    const idle = SECTIONS.has("idle") ? { ...(await idleCapacity(base, wsBase, tokenService, idleSockets)), openFilesLimit: fdLimits } : null;
    await stopServer(server);
    if (SECTIONS.has("flood") || SECTIONS.has("cost")) usersTemplate = await createBenchUsersDataDir(FLOOD_OTHERS + 2);
    const flood = SECTIONS.has("flood") ? await floodIsolation(usersTemplate!, tokenService) : null;
    const cost = SECTIONS.has("cost") ? await limitsCost(usersTemplate!, tokenService) : null;
    const report = { machine: machineInfo(), storm, idle, profile, flood, cost };
    const md = [
      "# Server benchmark (`npm run bench:server`)",
      "",
      `Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}, ${report.machine.redis.split(" ").slice(0, 3).join(" ")}. ${report.machine.date}. Load average at the end: ${report.machine.loadAverage.join(" / ")} (other work shares these 2 cores). Loopback only; server in its own process.`,
      "",
      ...(storm
        ? [
            "## Replacement storm",
            "",
            `${storm.users} users × ${storm.connectsPerUser} concurrent connects: settled in **${storm.settleMs} ms**; survivors **${storm.survivors}** (users with exactly one socket: ${storm.usersWithExactlyOneSocket}; server gauge ${storm.serverConnections}); closed with ${CloseCode.normal} "${CloseReason.replaced}": **${storm.replacedWithExactReason}** of ${storm.users * (storm.connectsPerUser - 1)}.`,
            "",
          ]
        : []),
      ...(idle
        ? [
            "## Idle capacity",
            "",
            "| sockets open | held | still open | RSS baseline → held | RSS per socket | event-loop lag p99 (max / median of 5 s samples) | CPU while idle | time to open |",
            "|---|---|---|---|---|---|---|---|",
            `| ${idle.opened} of ${idle.requested} | ${idle.holdSeconds} s | ${idle.stillOpenAfterHold} | ${idle.baselineRssMiB} → ${idle.heldRssMiB} MiB | **${idle.rssPerSocketKiB} KiB** | ${idle.eventLoopLagP99MsMax} / ${idle.eventLoopLagP99MsMedian} ms | ${idle.cpuPercentOfOneCoreWhileIdle} % of a core | ${idle.openSeconds} s |`,
            "",
            `Heartbeat ${HEARTBEAT_MS / 1000} s (protocol pings answered by the clients during the hold: ${idle.protocolPingsAnsweredByClients}). For comparison, \`npm run bench:peers\` measures plain \`ws\` and Socket.IO on the same machine. Open-files limit (soft) of the server process ${idle.openFilesLimit.server}, of the client process ${idle.openFilesLimit.bench}: one descriptor per socket, so a production instance needs \`LimitNOFILE\` above its socket count (here the hard limit is 20,000 and cannot be raised — no CAP_SYS_RESOURCE in this sandbox — so one process tops out just under 20,000 sockets).`,
            "",
          ]
        : []),
      ...(profile
        ? [
            "## Profile (`GET /api/users/profile/me`, warm cache, 50 connections)",
            "",
            "| response | requests/s | p50 | p99 | DB queries per request |",
            "|---|---|---|---|---|",
            ...profile.map((p) => `| ${p.status} | ${p.requestsPerSecond} | ${p.latencyP50Ms} ms | ${p.latencyP99Ms} ms | ${p.dbQueriesPerRequest} |`),
            "",
          ]
        : []),
      ...(flood
        ? [
            `## Flood isolation (default limits): one user floods, ${flood.others} others chat`,
            "",
            `Each of ${flood.others} users sends one message every ${flood.normalSendEveryMs / 1000} s to a connected partner; delivery latency is send → the partner's \`event\`. Then one user sends ${flood.floodBurst.toLocaleString("en")} \`send\` frames at once on every connect and reconnects 100 ms after it is closed or refused (ignoring the 10 s cooldown), for ${flood.phaseSeconds} s.`,
            "",
            "| phase | deliveries | p50 | p99 | max |",
            "|---|---|---|---|---|",
            `| without the flood | ${flood.baseline.count} of ${flood.baseline.sent} | ${flood.baseline.p50Ms} ms | ${flood.baseline.p99Ms} ms | ${flood.baseline.maxMs} ms |`,
            `| with the flood | ${flood.flood.count} of ${flood.flood.sent} | ${flood.flood.p50Ms} ms | ${flood.flood.p99Ms} ms | ${flood.flood.maxMs} ms |`,
            "",
            `p99 with / without: **${flood.p99Ratio}×**. The flooder: ${JSON.stringify(flood.flooder)}; sockets closed with ${CloseCode.rateLimited} "${CloseReason.rateLimited}": ${flood.rateLimitCloses}; error frames the others got: ${flood.othersRateLimitedOrErrors}.`,
            "",
          ]
        : []),
      ...(cost
        ? [
            "## Cost of the limits on a send",
            "",
            `${cost.senders} senders, ${cost.window} sends in flight each, ${cost.seconds} s per measurement, ${cost.rounds} rounds alternating two servers: budgets on (every frame spends one, never refused) and off (\`RATE_LIMIT_*_PER_S=0\`).`,
            "",
            "| limits | msgs/s per round | median |",
            "|---|---|---|",
            `| on | ${cost.limitsOnMsgsPerS.join(", ")} | **${cost.medianOn}** |`,
            `| off | ${cost.limitsOffMsgsPerS.join(", ")} | **${cost.medianOff}** |`,
            "",
            `On / off: **${cost.onOverOff}**.`,
            "",
          ]
        : []),
    ].join("\n");
    const paths = await writeReport("server-bench", report, md);
    process.stdout.write(md + "\n");
    log(`wrote ${paths.join(", ")}`);
  } finally {
    await stopServer(server);
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
    if (usersTemplate) await rm(usersTemplate, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
