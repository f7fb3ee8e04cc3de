/**
 * `npm run bench:peers` — Switchboard side by side with the two servers a chat backend is usually
 * measured against, in one run on this machine, loopback only, every server its own process and
 * this load generator another:
 *  - `bare ws`: `ws` 8 relaying one frame (`bench/peers/bare-ws-peer.ts`);
 *  - `Socket.IO`: Socket.IO 4.8 relaying one event (`bench/peers/socketio-peer.ts`);
 *  - `Switchboard + Postgres` (a private Postgres and redis-server, as in production);
 *  - `Switchboard + Postgres, realtime in process`: the same server with the owner registry, the
 *    history and delivery in memory instead of Redis (`bench/peers/switchboard-in-process-realtime.ts`,
 *    one instance only): beside the previous target, what the cross-instance guarantees cost;
 *  - `Switchboard embedded` (the default: PGlite, and the private redis-server it starts itself).
 * All four check the same HS256 JWT (subprotocol / handshake) and keep one socket per user. The
 * peers store nothing; Switchboard validates, stores, acknowledges and fans out, so equality is not
 * expected — the ratios say how far the extra work costs.
 *
 * Phases, each run for every server in turn (interleaved, so they share the same minutes):
 *  1. connects/s: BENCH_CONNECT_USERS sockets (BENCH_CONNECT_CONCURRENCY opening at a time);
 *  2. replacement storm: BENCH_STORM_USERS users open BENCH_STORM_COPIES sockets each at once →
 *     time until every user is left with exactly one open socket;
 *  3. idle memory: BENCH_IDLE_SOCKETS idle sockets; server RSS after a full GC (through the
 *     inspector) minus the RSS before them, per socket; plus the RSS before the first socket;
 *  4. delivery: BENCH_USERS users, user i → i+1, BENCH_RATES msg/s offered for BENCH_RATE_S
 *     seconds each (at most BENCH_WINDOW undelivered) → delivered/s, p50/p99 send→receive, and
 *     the server process's CPU time per delivered message;
 *  5. HTTP: the 304 profile path (token + If-None-Match) against an Express 5 hello world
 *     (autocannon, BENCH_HTTP_CONNECTIONS connections, BENCH_HTTP_S seconds a run, BENCH_HTTP_ROUNDS
 *     rounds in rotating order, after an unrecorded BENCH_HTTP_WARMUP_S (3) run each) → median
 *     req/s, spread, ratio and server CPU per request.
 * Knobs (smoke run: BENCH_CONNECT_USERS=200 BENCH_STORM_USERS=50 BENCH_IDLE_SOCKETS=500
 * BENCH_USERS=20 BENCH_RATES=100,300 BENCH_RATE_S=2 BENCH_HTTP_S=2 BENCH_HTTP_ROUNDS=1): defaults 2000, 500, 4, 10000,
 * 200, "1000,3000,6000", 15, 2000, 50, 10, 3; BENCH_PHASES (connect,storm,idle,delivery,http) and
 * BENCH_TARGETS (ws,socketio,postgres,inprocess,embedded) pick a subset; BENCH_COMPARE_ENTRY adds another build; BENCH_SERVER_NODE_ARGS passes Node flags to the servers (`--cpu-prof`), BENCH_COMPARE_NODE_ARGS to the compared build only. Results: bench/results/peers-bench.{json,md,svg}.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { io as socketIoClient, type Socket as SocketIoSocket } from "socket.io-client";
import WebSocket from "ws";
import {
  BEARER_PROTOCOL_PREFIX,
  ClientFrameType,
  EventKind,
  RestPath,
  SUBPROTOCOL,
  ServerFrameType,
  WS_PATH_PREFIX,
  type ServerFrame,
} from "../shared/protocol/index.js";
import { TokenService } from "../server/src/auth/tokens.js";
import { freePort, startLocalRedis } from "../server/src/redis/local-redis-server.js";
import { openDb } from "../server/src/store/db.js";
import type { Store } from "../server/src/store/store.js";
import { startPostgres } from "../test/helpers/postgres.js";
import { copyDataDir, createBenchUsersDataDir } from "./lib/bench-users.js";
import { FRESH_RESUME_FRAME, freshClientProtocols } from "./lib/chat-socket.js";
import { log, machineInfo, percentile, writeReport } from "./lib/report.js";
import { SERVER_NODE_FLAGS } from "./lib/server-node-flags.js";
import { barChartSvg } from "./tabs-chart.js";
import { endWithThisProcess } from "./lib/children.js";
import { benchFile, SERVER_ENTRY } from "./lib/build-entry.js";

const knob = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CONNECT_USERS = knob("BENCH_CONNECT_USERS", 2000);
const CONNECT_CONCURRENCY = knob("BENCH_CONNECT_CONCURRENCY", 50);
const STORM_USERS = knob("BENCH_STORM_USERS", 500);
const STORM_COPIES = knob("BENCH_STORM_COPIES", 4);
const IDLE_SOCKETS = knob("BENCH_IDLE_SOCKETS", 10_000);
const USERS = knob("BENCH_USERS", 200);
const RATES = (process.env.BENCH_RATES ?? "1000,3000,6000").split(",").map(Number);
const RATE_S = knob("BENCH_RATE_S", 15);
const WINDOW = knob("BENCH_WINDOW", 2000);
const HTTP_CONNECTIONS = knob("BENCH_HTTP_CONNECTIONS", 50);
const HTTP_S = knob("BENCH_HTTP_S", 10);
const HTTP_ROUNDS = Math.max(1, knob("BENCH_HTTP_ROUNDS", 3));
const HTTP_WARMUP_S = knob("BENCH_HTTP_WARMUP_S", 3);
const PHASES = new Set((process.env.BENCH_PHASES ?? "connect,storm,idle,delivery,http").split(","));
const TARGET_KEYS = new Set((process.env.BENCH_TARGETS ?? "ws,socketio,postgres,inprocess,embedded").split(","));
/**
 * A/B of a change: another build's server entry (e.g. `.ab/dist/server/src/main.js`, a copy of
 * `dist/` made before the change) run as one more target next to each Switchboard target,
 * interleaved with this build: with Postgres on its own redis-server (one socket per user holds
 * per Redis) and the same database; embedded on its own copy of the data folder.
 */
const COMPARE_ENTRY = process.env.BENCH_COMPARE_ENTRY;
/** Extra Node flags for every server process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (a profile per server, written at its exit). */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
/** Node flags for the BENCH_COMPARE_ENTRY targets only: with the same build as the entry, an A/B of a flag (`--max-semi-space-size=32`). */
const COMPARE_NODE_ARGS = (process.env.BENCH_COMPARE_NODE_ARGS ?? "").split(" ").filter(Boolean);
const SECRET = "bench-secret-bench-secret-bench-secret-0123";
/** Users of the connect, storm and idle phases: ids no delivery user has, a fresh range per phase. */
const CONNECT_USER_BASE = 1_000_000;
const STORM_USER_BASE = 2_000_000;
const IDLE_USER_BASE = 3_000_000;
const CLOCK_TICKS_PER_S = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 1) => (Number.isFinite(value) ? +value.toFixed(digits) : NaN);

// ---- the servers ----------------------------------------------------------------------------

type Protocol = "ws" | "socketio" | "switchboard";

interface Target {
  key: string;
  name: string;
  protocol: Protocol;
  child: ChildProcess;
  port: number;
  inspectorPort: number;
  /** The processes serving this target besides its own (its Redis, its Postgres backends), looked up when a phase starts. */
  servicePids: () => number[];
}

async function spawnServer(
  key: string,
  name: string,
  protocol: Protocol,
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<Target> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const child = spawn(process.execPath, [`--inspect=127.0.0.1:${inspectorPort}`, ...SERVER_NODE_FLAGS, ...SERVER_NODE_ARGS, ...nodeArgs, script], {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", JWT_SECRET: SECRET, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  endWithThisProcess(child);
  let announced = false;
  child.stdout!.on("data", (chunk: Buffer) => {
    if (chunk.toString().includes("listening")) announced = true;
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    if (!text.includes("Debugger") && !text.includes("inspector")) process.stderr.write(`[${key}] ${text}`);
  });
  // By default, what the server started itself (the embedded default's private redis-server).
  const target: Target = { key, name, protocol, child, port, inspectorPort, servicePids: () => childPids(child.pid!) };
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start`);
    // The peers announce their port once they listen; Switchboard says ready on /readyz.
    const up =
      protocol === "switchboard"
        ? await fetch(`${url}/readyz`).then(
            (r) => r.ok,
            () => false,
          )
        : announced;
    if (up) return target;
    await sleep(100);
  }
  throw new Error(`${name} did not start`);
}

function stopServer(target: Target): Promise<void> {
  return new Promise((resolve) => {
    if (target.child.exitCode !== null || target.child.signalCode !== null) return resolve();
    target.child.once("exit", () => resolve());
    target.child.kill("SIGTERM");
    setTimeout(() => target.child.kill("SIGKILL"), 20_000).unref();
  });
}

/** A full GC in the server process, through its inspector (`HeapProfiler.collectGarbage`). */
async function collectGarbage(target: Target): Promise<void> {
  const list = (await (await fetch(`http://127.0.0.1:${target.inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const inspector = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    inspector.once("open", () => inspector.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" })));
    inspector.on("message", (data) => {
      if ((JSON.parse(data.toString()) as { id?: number }).id === 1) resolve();
    });
    inspector.once("error", reject);
  });
  inspector.close();
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? NaN) * 1024;
}

/** User + system CPU time of a process so far, in microseconds (`/proc/<pid>/stat`). */
function cpuMicroseconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S) * 1_000_000;
}

/** CPU time per process of several processes, skipping any that exited. */
function cpuByPid(pids: number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      cpu.set(pid, cpuMicroseconds(pid));
    } catch {
      // gone meanwhile
    }
  }
  return cpu;
}

/**
 * CPU the processes used between two looks (the second look finds processes started meanwhile,
 * counted from zero). A process that exited in between is not counted: a pool closing an idle
 * backend takes that backend's share with it, so the figure is a lower bound.
 */
function cpuUsedSince(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, cpu] of after) used += cpu - (before.get(pid) ?? 0);
  return used;
}

function processStats(): { pid: number; ppid: number; cmdline: string }[] {
  const stats: { pid: number; ppid: number; cmdline: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      stats.push({ pid: Number(entry), ppid, cmdline: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // gone meanwhile
    }
  }
  return stats;
}

function childPids(pid: number): number[] {
  return processStats()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid);
}

/** The postmaster listening on `port` (started with `-p <port>`) and its backends. */
function postgresPids(port: number): number[] {
  const stats = processStats();
  const postmaster = stats.find((p) => p.cmdline.includes("postgres") && p.cmdline.includes(`-p ${port} `));
  return postmaster ? [postmaster.pid, ...stats.filter((p) => p.ppid === postmaster.pid).map((p) => p.pid)] : [];
}

// ---- the clients ----------------------------------------------------------------------------

interface BenchClient {
  /** Resolves once the server said welcome (Switchboard: and resumed, so live events flow). */
  ready: Promise<void>;
  isOpen(): boolean;
  onClose(listener: () => void): void;
  send(to: number, clientMsgId: string, body: string): void;
  onMessage(listener: (from: number, body: string) => void): void;
  close(): void;
}

const EVENT_FRAME_PREFIX = `{"type":"${ServerFrameType.event}"`;
const MESSAGE_KIND_FIELD = `"kind":"${EventKind.message}"`;

function connect(target: Target, userId: number, token: string): BenchClient {
  const wsUrl = `ws://127.0.0.1:${target.port}`;
  if (target.protocol === "socketio") {
    const socket: SocketIoSocket = socketIoClient(`http://127.0.0.1:${target.port}`, {
      transports: ["websocket"],
      auth: { token, userId },
      reconnection: false,
      forceNew: true,
    });
    let open = true;
    socket.on("disconnect", () => (open = false));
    socket.on("connect_error", () => (open = false));
    return {
      ready: new Promise((resolve, reject) => {
        socket.once("welcome", () => resolve());
        socket.once("connect_error", reject);
        socket.once("disconnect", () => reject(new Error("disconnected before welcome")));
      }),
      isOpen: () => open,
      onClose: (listener) => {
        socket.on("disconnect", listener);
        socket.on("connect_error", listener);
      },
      send: (to, _clientMsgId, body) => socket.emit("send", { to, body }),
      onMessage: (listener) => socket.on("message", (frame: { from: number; body: string }) => listener(frame.from, frame.body)),
      close: () => socket.disconnect(),
    };
  }
  const protocols = target.protocol === "ws" ? [SUBPROTOCOL, BEARER_PROTOCOL_PREFIX + token] : freshClientProtocols(token);
  const ws = new WebSocket(`${wsUrl}${WS_PATH_PREFIX}${userId}`, protocols, { perMessageDeflate: false });
  ws.on("error", () => {});
  const ready = new Promise<void>((resolve, reject) => {
    const onFrame = (data: WebSocket.RawData) => {
      const text = data.toString();
      if (target.protocol === "ws") {
        ws.off("message", onFrame);
        return resolve();
      }
      const frame = JSON.parse(text) as ServerFrame;
      // A fresh client offers `resume..0` in the upgrade, so live events flow without the 1 s hold;
      // a build that does not take it (an A/B's older server) gets the `resume` frame.
      if (frame.type === ServerFrameType.welcome && !frame.resuming) ws.send(FRESH_RESUME_FRAME);
      if (frame.type === ServerFrameType.resumed) {
        ws.off("message", onFrame);
        resolve();
      }
    };
    ws.on("message", onFrame);
    ws.once("close", (code) => reject(new Error(`closed before welcome: ${code}`)));
  });
  ready.catch(() => {});
  return {
    ready,
    isOpen: () => ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING,
    onClose: (listener) => ws.on("close", listener),
    send: (to, clientMsgId, body) =>
      ws.send(target.protocol === "ws" ? JSON.stringify({ to, body }) : JSON.stringify({ type: ClientFrameType.send, clientMsgId, to, body })),
    onMessage: (listener) =>
      ws.on("message", (data) => {
        const text = data.toString();
        if (target.protocol === "ws") {
          if (!text.startsWith('{"from"')) return;
          const frame = JSON.parse(text) as { from: number; body: string };
          return listener(frame.from, frame.body);
        }
        // Server frames are JSON.stringify output, `type` first: only message events are parsed.
        if (!text.startsWith(EVENT_FRAME_PREFIX) || !text.includes(MESSAGE_KIND_FIELD)) return;
        const frame = JSON.parse(text) as ServerFrame;
        // The sender gets its own message as an event too: only the recipient's copy is a delivery.
        if (frame.type !== ServerFrameType.event || frame.event.kind !== EventKind.message || frame.event.message.from === userId) return;
        listener(frame.event.message.from, frame.event.message.body);
      }),
    close: () => ws.close(),
  };
}

const tokens = new TokenService(SECRET, null as unknown as Store, { accessTtlS: 3600, refreshTtlS: 3600 });
const tokenCache = new Map<number, string>();
async function tokenFor(userId: number): Promise<string> {
  let token = tokenCache.get(userId);
  if (!token) {
    token = await tokens.issueAccess({ userId, role: "user", sessionId: randomUUID() });
    tokenCache.set(userId, token);
  }
  return token;
}

async function openMany(target: Target, userIds: number[], concurrency: number): Promise<{ clients: BenchClient[]; failed: number; elapsedMs: number }> {
  const clients: BenchClient[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, userIds.length) }, async () => {
      while (next < userIds.length) {
        // In the order of `userIds`, whichever connect finishes first: the delivery phase
        // addresses user i + 1 through clients[i].
        const index = next++;
        const userId = userIds[index]!;
        const client = connect(target, userId, await tokenFor(userId));
        clients[index] = client;
        await client.ready.catch(() => failed++);
      }
    }),
  );
  return { clients, failed, elapsedMs: performance.now() - started };
}

async function closeAll(clients: BenchClient[]): Promise<void> {
  for (const client of clients) client.close();
  const until = performance.now() + 10_000;
  while (clients.some((c) => c.isOpen()) && performance.now() < until) await sleep(50);
  await sleep(300);
}

const range = (base: number, count: number) => Array.from({ length: count }, (_, i) => base + i);

// ---- phases ---------------------------------------------------------------------------------

interface ConnectResult {
  sockets: number;
  failed: number;
  connectsPerS: number;
  /** The server process's CPU per socket opened (and closed): less sensitive to other load on the box than the rate. */
  cpuMicrosecondsPerConnect: number;
  /** The same for the processes serving it (its Redis; with Postgres, its backends). */
  serviceCpuMicrosecondsPerConnect: number;
}

async function connectPhase(target: Target): Promise<ConnectResult> {
  const users = range(CONNECT_USER_BASE, CONNECT_USERS);
  await Promise.all(users.map(tokenFor));
  const pid = target.child.pid!;
  const cpuBefore = cpuMicroseconds(pid);
  const serviceCpuBefore = cpuByPid(target.servicePids());
  const { clients, failed, elapsedMs } = await openMany(target, users, CONNECT_CONCURRENCY);
  await closeAll(clients);
  const opened = Math.max(1, CONNECT_USERS - failed);
  const result: ConnectResult = {
    sockets: CONNECT_USERS,
    failed,
    connectsPerS: Math.round((CONNECT_USERS - failed) / (elapsedMs / 1000)),
    cpuMicrosecondsPerConnect: Math.round((cpuMicroseconds(pid) - cpuBefore) / opened),
    serviceCpuMicrosecondsPerConnect: Math.round(cpuUsedSince(serviceCpuBefore, cpuByPid(target.servicePids())) / opened),
  };
  log(
    `  ${target.name}: ${result.connectsPerS} connects/s, ${failed} failed, ${result.cpuMicrosecondsPerConnect} µs CPU per connect (+ ${result.serviceCpuMicrosecondsPerConnect} µs Redis/Postgres)`,
  );
  return result;
}

interface StormResult {
  users: number;
  copies: number;
  settleMs: number;
  settled: boolean;
}

async function stormPhase(target: Target): Promise<StormResult> {
  const users = range(STORM_USER_BASE, STORM_USERS);
  await Promise.all(users.map(tokenFor));
  const started = performance.now();
  const byUser = users.map((userId) => Array.from({ length: STORM_COPIES }, () => connect(target, userId, tokenCache.get(userId)!)));
  const settledUser = (copies: BenchClient[]) => copies.filter((c) => c.isOpen()).length === 1;
  const until = started + 60_000;
  // Settled: every user has exactly one socket left open, and it got its welcome.
  while (performance.now() < until && !byUser.every(settledUser)) await sleep(10);
  const survivors = byUser.map((copies) => copies.find((c) => c.isOpen())).filter((c) => c !== undefined);
  const welcomed = await Promise.all(
    survivors.map((c) =>
      c.ready.then(
        () => true,
        () => false,
      ),
    ),
  );
  const settled = byUser.every(settledUser) && welcomed.every(Boolean);
  const settleMs = performance.now() - started;
  await closeAll(byUser.flat());
  log(`  ${target.name}: settled ${settled} after ${Math.round(settleMs)} ms`);
  return { users: STORM_USERS, copies: STORM_COPIES, settleMs: Math.round(settleMs), settled };
}

interface IdleResult {
  sockets: number;
  failed: number;
  rssBeforeMiB: number;
  rssWithSocketsMiB: number;
  kibPerSocket: number;
}

async function idlePhase(target: Target): Promise<IdleResult> {
  const users = range(IDLE_USER_BASE, IDLE_SOCKETS);
  await Promise.all(users.map(tokenFor));
  await collectGarbage(target);
  const before = rssBytes(target.child.pid!);
  const { clients, failed } = await openMany(target, users, CONNECT_CONCURRENCY);
  await sleep(500);
  await collectGarbage(target);
  const after = rssBytes(target.child.pid!);
  await closeAll(clients);
  const result = {
    sockets: IDLE_SOCKETS,
    failed,
    rssBeforeMiB: round(before / 2 ** 20),
    rssWithSocketsMiB: round(after / 2 ** 20),
    kibPerSocket: round((after - before) / 1024 / Math.max(1, IDLE_SOCKETS - failed), 2),
  };
  log(`  ${target.name}: ${result.kibPerSocket} KiB per idle socket (RSS ${result.rssBeforeMiB} → ${result.rssWithSocketsMiB} MiB)`);
  return result;
}

interface DeliveryResult {
  offeredPerS: number;
  sent: number;
  delivered: number;
  deliveredPerS: number;
  latencyMs: { p50: number; p99: number; max: number };
  cpuMicrosecondsPerMessage: number;
  /** CPU of the processes serving the target (Redis; Postgres and its backends) per delivered message. */
  serviceCpuMicrosecondsPerMessage: number;
  windowLimited: boolean;
}

async function deliveryPhase(target: Target, rate: number, run: number, clients: BenchClient[]): Promise<DeliveryResult> {
  const latencies: number[] = [];
  let lastDelivery = 0;
  const listener = (_from: number, body: string) => {
    const [runTag, sentAt] = body.split(":");
    if (Number(runTag) !== run) return;
    const now = performance.now();
    latencies.push(now - Number(sentAt));
    lastDelivery = now;
  };
  for (const client of clients) client.onMessage(listener);
  const pid = target.child.pid!;
  const cpuBefore = cpuMicroseconds(pid);
  const serviceCpuBefore = cpuByPid(target.servicePids());
  let sent = 0;
  let windowLimited = false;
  const started = performance.now();
  const endAt = started + RATE_S * 1000;
  while (performance.now() < endAt) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      if (sent - latencies.length >= WINDOW) {
        windowLimited = true;
        break;
      }
      const from = sent % clients.length;
      sent++;
      clients[from]!.send(1 + ((from + 1) % clients.length), `r${run}-${sent}`, `${run}:${performance.now()}`);
    }
    await sleep(5);
  }
  const drainUntil = performance.now() + 20_000;
  while (latencies.length < sent && performance.now() < drainUntil) await sleep(20);
  const cpuAfter = cpuMicroseconds(pid);
  const serviceCpuAfter = cpuByPid(target.servicePids());
  const sorted = [...latencies].sort((x, y) => x - y);
  const result: DeliveryResult = {
    offeredPerS: rate,
    sent,
    delivered: latencies.length,
    deliveredPerS: Math.round(latencies.length / ((Math.max(lastDelivery, endAt) - started) / 1000)),
    latencyMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN) },
    cpuMicrosecondsPerMessage: Math.round((cpuAfter - cpuBefore) / Math.max(1, latencies.length)),
    serviceCpuMicrosecondsPerMessage: Math.round(cpuUsedSince(serviceCpuBefore, serviceCpuAfter) / Math.max(1, latencies.length)),
    windowLimited,
  };
  log(
    `  ${target.name} @ ${rate}/s: ${result.deliveredPerS}/s delivered, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.cpuMicrosecondsPerMessage} µs CPU/msg (+ ${result.serviceCpuMicrosecondsPerMessage} µs Redis/Postgres)`,
  );
  return result;
}

/** One autocannon run against one server. */
interface HttpRun {
  requestsPerS: number;
  statusCodes: Record<string, number>;
  latencyP99Ms: number;
  /** The server process's own CPU time over the run, per answered request. */
  cpuMicrosecondsPerRequest: number;
}

/** One server over every round: medians, with the spread and each round kept. */
interface HttpResult {
  name: string;
  path: string;
  requestsPerS: number;
  minRequestsPerS: number;
  maxRequestsPerS: number;
  /** Median over the rounds of requests/s ÷ the hello world's in the same round (1 for the hello world). */
  ratioToHello: number;
  cpuMicrosecondsPerRequest: number;
  latencyP99Ms: number;
  runs: HttpRun[];
}

async function httpRun(pid: number, url: string, headers: Record<string, string>): Promise<HttpRun> {
  const cpuBefore = cpuMicroseconds(pid);
  const result = await autocannon({ url, connections: HTTP_CONNECTIONS, duration: HTTP_S, headers });
  const cpu = cpuMicroseconds(pid) - cpuBefore;
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = count ?? 0;
  return {
    requestsPerS: Math.round(result.requests.average),
    statusCodes,
    latencyP99Ms: result.latency.p99 ?? NaN,
    cpuMicrosecondsPerRequest: Math.round(cpu / Math.max(1, result.requests.total)),
  };
}

interface HttpServer {
  key: string;
  name: string;
  pid: number;
  url: string;
  headers: Record<string, string>;
}

/**
 * HTTP_ROUNDS rounds; each runs every server once, the order rotated by one per round, so no
 * server always goes first (a warmer JIT) or last (a warmer box). Throughput on 2 cores shared
 * with the load generator swings by ±15 % between back-to-back runs of the same code, so the
 * report gives medians, each server's spread, and the server's CPU per request — which the load
 * generator's share of the cores does not move.
 */
async function httpRounds(servers: HttpServer[]): Promise<Record<string, HttpResult>> {
  const runs = new Map<string, HttpRun[]>(servers.map((s) => [s.key, []]));
  // Unrecorded: a cold server's first seconds run unoptimized code (measured: the hello world's
  // first 3 s run 206 µs of CPU a request, its later ones 136 µs).
  for (const server of servers) await autocannon({ url: server.url, connections: HTTP_CONNECTIONS, duration: HTTP_WARMUP_S, headers: server.headers });
  for (let round = 0; round < HTTP_ROUNDS; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
    for (const server of order) {
      const run = await httpRun(server.pid, server.url, server.headers);
      runs.get(server.key)!.push(run);
      log(
        `  round ${round + 1}: ${server.name}: ${run.requestsPerS} req/s, ${run.cpuMicrosecondsPerRequest} µs CPU a request ${JSON.stringify(run.statusCodes)}`,
      );
    }
  }
  const hello = runs.get(servers[0]!.key)!;
  const median = (values: number[]) =>
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    );
  const results: Record<string, HttpResult> = {};
  for (const server of servers) {
    const own = runs.get(server.key)!;
    const rates = own.map((r) => r.requestsPerS);
    results[server.key] = {
      name: server.name,
      path: new URL(server.url).pathname,
      requestsPerS: Math.round(median(rates)),
      minRequestsPerS: Math.min(...rates),
      maxRequestsPerS: Math.max(...rates),
      ratioToHello: Math.round(median(own.map((r, i) => r.requestsPerS / hello[i]!.requestsPerS)) * 100) / 100,
      cpuMicrosecondsPerRequest: Math.round(median(own.map((r) => r.cpuMicrosecondsPerRequest))),
      latencyP99Ms: median(own.map((r) => r.latencyP99Ms)),
      runs: own,
    };
  }
  return results;
}

// ---- the run --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const machine = machineInfo();
  const loadavgBefore = os.loadavg();
  log(`load average ${loadavgBefore.map((l) => l.toFixed(2)).join(" / ")}`);
  const redis = await startLocalRedis();
  const postgres = TARGET_KEYS.has("postgres") || TARGET_KEYS.has("inprocess") ? await startPostgres() : null;
  const usersDataDir = TARGET_KEYS.has("embedded") ? await createBenchUsersDataDir(Math.max(USERS, 1)) : null;
  const switchboardEnv = {
    LOG_LEVEL: "warn",
    SWITCHBOARD_QUIET: "1",
    HEARTBEAT_INTERVAL_MS: "60000",
    ACCESS_TOKEN_TTL_S: "3600",
    // Capacity is measured with a few hundred users offering far over a person's send budget.
    RATE_LIMIT_SEND_PER_S: "0",
    RATE_LIMIT_RESUME_PER_S: "0",
  };
  const targets: Target[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const startupRss: Record<string, { beforeGcMiB: number; afterGcMiB: number }> = {};
  try {
    if (TARGET_KEYS.has("ws")) targets.push(await spawnServer("ws", "bare ws 8", "ws", benchFile("peers/bare-ws-peer.js"), {}));
    if (TARGET_KEYS.has("socketio")) targets.push(await spawnServer("socketio", "Socket.IO 4.8", "socketio", benchFile("peers/socketio-peer.js"), {}));
    if (postgres) {
      // The in-process target shares the database and the redis-server (its realtime layer never
      // touches Redis; the profile cache would, and no phase reads a profile through it), each
      // phase in its own turn.
      const postgresTargets = [
        { key: "postgres", name: "Switchboard + Postgres", entry: SERVER_ENTRY },
        { key: "inprocess", name: "Switchboard + Postgres, realtime in process (no Redis)", entry: benchFile("peers/switchboard-in-process-realtime.js") },
      ];
      for (const { key, name, entry } of postgresTargets.filter((t) => TARGET_KEYS.has(t.key))) {
        const env = { ...switchboardEnv, DATABASE_URL: postgres.url, REDIS_URL: redis.url, INSTANCE_ID: `bench-${key}` };
        targets.push(await spawnServer(key, name, "switchboard", entry, env));
        targets.at(-1)!.servicePids = () => [redis.process.pid!, ...postgresPids(postgres.port)];
      }
      const db = await openDb({ databaseUrl: postgres.url });
      await db.query(
        `INSERT INTO users (username, password_hash, display_name, email)
         SELECT 'bench-' || g, 'not-a-login', 'Bench ' || g, 'bench-' || g || '@example.invalid' FROM generate_series(1, $1::int) AS g`,
        [Math.max(USERS, 1)],
      );
      await db.close();
    }
    if (postgres && TARGET_KEYS.has("postgres") && COMPARE_ENTRY) {
      const compareRedis = await startLocalRedis();
      cleanups.push(() => compareRedis.stop());
      targets.push(
        await spawnServer(
          "compare",
          `Switchboard + Postgres (${[COMPARE_ENTRY, ...COMPARE_NODE_ARGS].join(" ")})`,
          "switchboard",
          COMPARE_ENTRY,
          {
            ...switchboardEnv,
            DATABASE_URL: postgres.url,
            REDIS_URL: compareRedis.url,
            INSTANCE_ID: "bench-compare",
          },
          COMPARE_NODE_ARGS,
        ),
      );
      targets.at(-1)!.servicePids = () => [compareRedis.process.pid!, ...postgresPids(postgres.port)];
    }
    if (usersDataDir) {
      const dataDir = await copyDataDir(usersDataDir);
      targets.push(
        await spawnServer("embedded", "Switchboard embedded (PGlite)", "switchboard", SERVER_ENTRY, {
          ...switchboardEnv,
          DATA_DIR: dataDir,
          INSTANCE_ID: "bench-embedded",
        }),
      );
      if (COMPARE_ENTRY) {
        const compareDataDir = await copyDataDir(usersDataDir);
        targets.push(
          await spawnServer(
            "compare-embedded",
            `Switchboard embedded (${[COMPARE_ENTRY, ...COMPARE_NODE_ARGS].join(" ")})`,
            "switchboard",
            COMPARE_ENTRY,
            {
              ...switchboardEnv,
              DATA_DIR: compareDataDir,
              INSTANCE_ID: "bench-compare-embedded",
            },
            COMPARE_NODE_ARGS,
          ),
        );
      }
    }
    for (const target of targets) {
      const beforeGc = rssBytes(target.child.pid!);
      await collectGarbage(target);
      startupRss[target.key] = { beforeGcMiB: round(beforeGc / 2 ** 20), afterGcMiB: round(rssBytes(target.child.pid!) / 2 ** 20) };
    }
    const wsTargets = targets;
    const connects: Record<string, ConnectResult> = {};
    const storms: Record<string, StormResult> = {};
    const idle: Record<string, IdleResult> = {};
    const delivery: Record<string, DeliveryResult[]> = {};
    const http: Record<string, HttpResult> = {};

    if (PHASES.has("connect")) {
      log(`connects: ${CONNECT_USERS} sockets, ${CONNECT_CONCURRENCY} opening at a time`);
      for (const target of wsTargets) connects[target.key] = await connectPhase(target);
    }
    if (PHASES.has("storm")) {
      log(`replacement storm: ${STORM_USERS} users × ${STORM_COPIES} sockets at once`);
      for (const target of wsTargets) storms[target.key] = await stormPhase(target);
    }
    if (PHASES.has("idle")) {
      log(`idle memory: ${IDLE_SOCKETS} sockets`);
      for (const target of wsTargets) idle[target.key] = await idlePhase(target);
    }
    if (PHASES.has("delivery")) {
      const deliveryUsers = range(1, USERS);
      const open: Record<string, BenchClient[]> = {};
      for (const target of wsTargets) {
        const { clients, failed } = await openMany(target, deliveryUsers, CONNECT_CONCURRENCY);
        if (failed > 0) throw new Error(`${target.name}: ${failed} delivery sockets failed to open`);
        open[target.key] = clients;
        delivery[target.key] = [];
      }
      let run = 0;
      // Interleaved: every server at one rate, then every server at the next.
      for (const rate of RATES) {
        log(`delivery: ${USERS} users, user i → i+1, ${rate} msg/s for ${RATE_S} s`);
        for (const target of wsTargets) {
          delivery[target.key]!.push(await deliveryPhase(target, rate, ++run, open[target.key]!));
          await sleep(500);
        }
      }
      for (const clients of Object.values(open)) await closeAll(clients);
    }
    if (PHASES.has("http")) {
      const hello = await spawnServer("express", "Express 5 hello world", "ws", benchFile("peers/express-hello-peer.js"), {});
      try {
        log(`http: ${HTTP_ROUNDS} rounds, ${HTTP_CONNECTIONS} connections, ${HTTP_S} s a run (after ${HTTP_WARMUP_S} s of warm-up each)`);
        const servers: HttpServer[] = [{ key: "express", name: hello.name, pid: hello.child.pid!, url: `http://127.0.0.1:${hello.port}/`, headers: {} }];
        // The 304 path does not touch the realtime layer: the in-process target would repeat the Postgres one.
        for (const switchboard of targets.filter((t) => t.protocol === "switchboard" && t.key !== "inprocess")) {
          const token = await tokenFor(1);
          const profileUrl = `http://127.0.0.1:${switchboard.port}${RestPath.profileMe}`;
          const first = await fetch(profileUrl, { headers: { authorization: `Bearer ${token}` } });
          const etag = first.headers.get("etag");
          if (!first.ok || !etag) throw new Error(`profile GET answered ${first.status} without an ETag`);
          const headers = { authorization: `Bearer ${token}`, "if-none-match": etag };
          servers.push({ key: `${switchboard.key}-304`, name: `${switchboard.name}, 304 path`, pid: switchboard.child.pid!, url: profileUrl, headers });
        }
        Object.assign(http, await httpRounds(servers));
      } finally {
        await stopServer(hello);
      }
    }

    const loadavgAfter = os.loadavg();
    const setup = {
      connectUsers: CONNECT_USERS,
      connectConcurrency: CONNECT_CONCURRENCY,
      stormUsers: STORM_USERS,
      stormCopies: STORM_COPIES,
      idleSockets: IDLE_SOCKETS,
      users: USERS,
      rates: RATES,
      rateS: RATE_S,
      window: WINDOW,
      httpConnections: HTTP_CONNECTIONS,
      httpS: HTTP_S,
      httpRounds: HTTP_ROUNDS,
      httpWarmupS: HTTP_WARMUP_S,
      loadavgBefore,
      loadavgAfter,
    };
    const report = { machine, setup, startupRss, connects, storms, idle, delivery, http };
    const names = targets.map((t) => t.name);
    const column = <T>(values: Record<string, T>, cell: (value: T) => string) => targets.map((t) => (values[t.key] === undefined ? "—" : cell(values[t.key]!)));
    const row = (label: string, cells: string[]) => `| ${label} | ${cells.join(" | ")} |`;
    const bareWs = (values: Record<string, { [k: string]: unknown }>, field: string) => Number(values.ws?.[field]);
    const ratio = (value: number, base: number) => (Number.isFinite(base) && base > 0 ? ` (${(value / base).toFixed(2)}×)` : "");
    const md = [
      "# Switchboard against bare ws and Socket.IO (`npm run bench:peers`)",
      "",
      `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.redis}. ${machine.date}.`,
      `Every server its own process (Node flags: \`${[...SERVER_NODE_FLAGS, ...SERVER_NODE_ARGS].join(" ")}\`), this load generator another, loopback only; phases interleaved (each server in turn). The peers relay one frame and store nothing; Switchboard validates, stores (Postgres or PGlite), acks and fans out.`,
      `Load average (1/5/15 min) before: ${loadavgBefore.map((l) => l.toFixed(2)).join(" / ")}; after: ${loadavgAfter.map((l) => l.toFixed(2)).join(" / ")}.`,
      "",
      `| | ${names.join(" | ")} |`,
      `|---|${names.map(() => "---").join("|")}|`,
      row(
        "process RSS at start (before / after a full GC)",
        column(startupRss, (r) => `${r.beforeGcMiB} / ${r.afterGcMiB} MiB`),
      ),
      row(
        `connects/s (${CONNECT_USERS} users, ${CONNECT_CONCURRENCY} at a time, JWT checked)`,
        column(
          connects,
          (r) =>
            `${r.connectsPerS}${ratio(r.connectsPerS, bareWs(connects as never, "connectsPerS"))}${r.failed ? `, ${r.failed} failed` : ""}, ${r.cpuMicrosecondsPerConnect ?? "?"} µs CPU each`,
        ),
      ),
      row(
        `replacement storm ${STORM_USERS} × ${STORM_COPIES}, settle`,
        column(
          storms,
          (r) => `${(r.settleMs / 1000).toFixed(2)} s${ratio(r.settleMs, bareWs(storms as never, "settleMs"))}${r.settled ? "" : " (did not settle)"}`,
        ),
      ),
      row(
        `idle RSS per socket (${IDLE_SOCKETS}, after a full GC)`,
        column(idle, (r) => `${r.kibPerSocket} KiB`),
      ),
      ...RATES.map((rate, i) =>
        row(
          `${rate} msg/s offered: delivered/s, p50 / p99, CPU/msg server + Redis/Postgres`,
          column(delivery, (results) => {
            const d = results[i];
            return d
              ? `${d.deliveredPerS}, ${d.latencyMs.p50} / ${d.latencyMs.p99} ms, ${d.cpuMicrosecondsPerMessage} µs + ${d.serviceCpuMicrosecondsPerMessage ?? "?"} µs${d.windowLimited ? " (window full)" : ""}`
              : "—";
          }),
        ),
      ),
      "",
      ...(Object.keys(http).length
        ? [
            `HTTP (autocannon, ${HTTP_CONNECTIONS} connections, ${HTTP_S} s a run, ${HTTP_ROUNDS} rounds in rotating order after ${HTTP_WARMUP_S} s of warm-up each; medians over the rounds): the 304 profile path is \`GET ${RestPath.profileMe}\` with a token and \`If-None-Match\`.`,
            "",
            "| | req/s (median, min–max) | ratio to the hello world (median of each round's) | server CPU per request | p99 |",
            "|---|---|---|---|---|",
            ...Object.values(http).map(
              (h) =>
                `| ${h.name} | ${h.requestsPerS} (${h.minRequestsPerS}–${h.maxRequestsPerS}) | ${h.ratioToHello.toFixed(2)}× | ${h.cpuMicrosecondsPerRequest} µs | ${h.latencyP99Ms} ms |`,
            ),
            "",
          ]
        : []),
      "CPU per message is the server process's own user + system time (`/proc/<pid>/stat`) over the delivered messages of that rate; after the `+`, the same for the processes serving it: its redis-server and the Postgres postmaster with its backends (with Postgres), the private redis-server it started (embedded; PGlite runs inside the server process). On 2 cores the sum bounds what the box can deliver: 1 s of CPU per core per second.",
      "Knobs and a smoke run: see the header of `bench/peers-bench.ts` and the README's benchmark section.",
    ].join("\n");
    const paths = await writeReport("peers-bench", report, md);
    const chartTargets = targets.filter((t) => delivery[t.key]?.length);
    if (chartTargets.length) {
      const series = (field: (d: DeliveryResult) => number) => Object.fromEntries(chartTargets.map((t) => [t.name, delivery[t.key]!.map(field)]));
      const svg = barChartSvg(
        "Delivery by offered rate (msg/s): bare ws, Socket.IO, Switchboard",
        RATES.map(String),
        [
          { title: "delivered msg/s", unit: "msg/s", series: series((d) => d.deliveredPerS) },
          { title: "p99 latency", unit: "ms", series: series((d) => d.latencyMs.p99), target: { value: 50, label: "target 50 ms" } },
          { title: "server CPU per message", unit: "µs", series: series((d) => d.cpuMicrosecondsPerMessage) },
        ],
        "offered msg/s",
      );
      const svgPath = path.resolve("bench/results/peers-bench.svg");
      await writeFile(svgPath, svg);
      paths.push(svgPath);
    }
    log(`wrote ${paths.join(", ")}`);
    process.stdout.write(md + "\n");
  } finally {
    await Promise.all(targets.map(stopServer));
    for (const cleanup of cleanups) await cleanup();
    await redis.stop();
    await postgres?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`peers bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
