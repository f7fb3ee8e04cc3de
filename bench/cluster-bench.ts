/**
 * `npm run bench:cluster` — two server instances sharing one Redis and one Postgres on this
 * machine, loopback only:
 *  1. delivery: senders on instance A stream `send` frames to recipients on instance B at
 *     100 / 1k / 5k / 10k messages/s offered (at most BENCH_WINDOW unacknowledged at a time, like a
 *     client with a send window) → delivered messages/s and sender-socket → recipient-socket
 *     latency p50/p99;
 *     The same rates through the realtime layer alone (two `createRedisRealtime` on their own
 *     connections: `publish` = one Lua script, append + owner-routed PUBLISH → the other
 *     "instance"), without the database, to separate the Redis path from the rest of a send;
 *  2. reconnect storm: instance A holds BENCH_STORM_SOCKETS sockets and is killed (SIGKILL: a
 *     crash, clients see 1006; SIGTERM: a deploy, clients get 1012 "Service restart"); the
 *     clients reconnect to instance B either with the project's policy (`closeAction` +
 *     `backoff` / `restartJitter` from shared/) or with the old client's fixed 5 s delay → peak
 *     accepts/s and time until 99 % are connected again. SIGTERM runs twice: closing every socket
 *     at once (SHUTDOWN_DRAIN_RATE=0, the old shutdown) and drained in slices (the default rate),
 *     and the report compares the two peaks (target: drained ≤ a quarter, 0 failed, 0 lost).
 * Every phase is bounded in time; results go to bench/results/cluster-bench.{json,md}.
 * Knobs: BENCH_PAIRS (20), BENCH_RATES (100,1000,5000,10000), BENCH_RATE_S (5), BENCH_WINDOW (2000),
 * BENCH_STORM_SOCKETS (10000), BENCH_STORM_TIMEOUT_S (120), BENCH_PHASES (delivery,storm),
 * BENCH_DRAIN_RATE (the server's SHUTDOWN_DRAIN_RATE default) for the drained run,
 * BENCH_SERVER_NODE_ARGS (extra node flags for the instances, e.g. "--cpu-prof").
 */
import { randomUUID } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import type WebSocket from "ws";
import {
  ClientFrameType,
  CloseAction,
  CloseCode,
  EventKind,
  ServerFrameType,
  backoff,
  closeAction,
  isServiceRestart,
  restartJitter,
  type ServerFrame,
} from "../shared/protocol/index.js";
import { Redis } from "ioredis";
import { openChatSocket, untilFrame, untilLive } from "./lib/chat-socket.js";
import { TokenService } from "../server/src/auth/tokens.js";
import { createRedisRealtime } from "../server/src/realtime/redis-realtime.js";
import { freePort, startLocalRedis } from "../server/src/redis/local-redis-server.js";
import { openDb } from "../server/src/store/db.js";
import { Store } from "../server/src/store/store.js";
import { startPostgres } from "../test/helpers/postgres.js";
import { log, machineInfo, percentile, writeReport } from "./lib/report.js";
import { SERVER_NODE_FLAGS } from "./lib/server-node-flags.js";
import { endWithThisProcess } from "./lib/children.js";
import { SERVER_ENTRY } from "./lib/build-entry.js";

const PAIRS = Number(process.env.BENCH_PAIRS ?? 20);
const RATES = (process.env.BENCH_RATES ?? "100,1000,5000,10000").split(",").map(Number);
const RATE_S = Number(process.env.BENCH_RATE_S ?? 5);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 2000);
const STORM_SOCKETS = Number(process.env.BENCH_STORM_SOCKETS ?? 10_000);
const STORM_TIMEOUT_S = Number(process.env.BENCH_STORM_TIMEOUT_S ?? 120);
const PHASES = new Set((process.env.BENCH_PHASES ?? "delivery,storm").split(","));
const OLD_CLIENT_DELAY_MS = 5000;
const SECRET = "bench-secret-bench-secret-bench-secret-0123";
const STORM_USER_BASE = 1_000_000;
/** Cheap pre-filter on the recipients' raw frames: only message events are parsed. */
const EVENT_FRAME_PREFIX = `{"type":"${ServerFrameType.event}"`;
const MESSAGE_KIND_FIELD = `"kind":"${EventKind.message}"`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  name: string;
  port: number;
  url: string;
  wsUrl: string;
  child: ChildProcess;
}

async function startInstance(name: string, port: number, env: Record<string, string>): Promise<Instance> {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean); // e.g. "--cpu-prof"
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...nodeArgs, SERVER_ENTRY], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      INSTANCE_ID: name,
      JWT_SECRET: SECRET,
      LOG_LEVEL: "warn",
      SWITCHBOARD_QUIET: "1",
      HEARTBEAT_INTERVAL_MS: "60000",
      ACCESS_TOKEN_TTL_S: "3600",
      SHUTDOWN_TIMEOUT_MS: "20000",
      // Capacity is measured with a few senders offering thousands of messages per second each:
      // far over a person's send budget, so the per-user limits are off here.
      RATE_LIMIT_SEND_PER_S: "0",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  endWithThisProcess(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`instance ${name} exited during start`);
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { name, port, url, wsUrl: `ws://127.0.0.1:${port}`, child };
    await sleep(100);
  }
  throw new Error(`instance ${name} did not become ready`);
}

function stopInstance(instance: Instance, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (instance.child.exitCode !== null || instance.child.signalCode !== null) return resolve();
    instance.child.once("exit", () => resolve());
    instance.child.kill(signal);
  });
}

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? NaN);
}

// ---- 1. delivery throughput and latency ---------------------------------------------------

interface DeliveryResult {
  offeredPerS: number;
  durationS: number;
  sent: number;
  delivered: number;
  deliveredPerS: number;
  latencyMs: { p50: number; p99: number; max: number };
  undelivered: number;
  windowLimited: boolean;
}

interface Received {
  latencies: number[];
  lastDelivery: number;
}

function record(received: Received, sentAt: number): void {
  const now = performance.now();
  received.latencies.push(now - sentAt);
  received.lastDelivery = now;
}

/**
 * Offer `rate` sends per second for RATE_S seconds (at most WINDOW in flight; `sendOne(n)` sends
 * the n-th), wait up to 20 s for delivery, and summarise what `received()` recorded.
 */
async function offerLoad(rate: number, inFlight: () => number, received: () => Received, sendOne: (n: number) => void): Promise<DeliveryResult> {
  let sent = 0;
  let windowLimited = false;
  const started = performance.now();
  const endAt = started + RATE_S * 1000;
  while (performance.now() < endAt) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      if (inFlight() >= WINDOW) {
        windowLimited = true;
        break;
      }
      sent++;
      sendOne(sent);
    }
    await sleep(5);
  }
  const drainUntil = performance.now() + 20_000;
  while (received().latencies.length < sent && performance.now() < drainUntil) await sleep(20);
  const { latencies, lastDelivery } = received();
  const delivered = latencies.length;
  const sorted = [...latencies].sort((x, y) => x - y);
  const result: DeliveryResult = {
    offeredPerS: rate,
    durationS: RATE_S,
    sent,
    delivered,
    deliveredPerS: Math.round(delivered / ((Math.max(lastDelivery, endAt) - started) / 1000)),
    latencyMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN) },
    undelivered: sent - delivered,
    windowLimited,
  };
  log(`  → ${result.deliveredPerS}/s delivered, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, undelivered ${result.undelivered}`);
  return result;
}

async function deliveryPhase(
  a: Instance,
  b: Instance,
  pairs: { sender: { id: number; token: string }; recipient: { id: number; token: string } }[],
): Promise<DeliveryResult[]> {
  const senders = pairs.map((p) => openChatSocket(a.wsUrl, p.sender.id, p.sender.token));
  const recipients = pairs.map((p) => openChatSocket(b.wsUrl, p.recipient.id, p.recipient.token));
  // What a fresh client does: nothing to resume, offered in the upgrade, so live events flow at once.
  await Promise.all([...senders, ...recipients].map((ws) => untilLive(ws)));
  const senderIds = new Set(pairs.map((p) => p.sender.id));

  let inFlight = 0;
  let received: Received = { latencies: [], lastDelivery: 0 };
  let run = 0;
  // The load generator shares the machine's two cores with everything it measures: it parses only
  // the frames it needs (server frames are JSON.stringify output, `type` first) — the senders'
  // own `message` events and the recipients' `unread` events are skipped unparsed.
  for (const ws of senders) {
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"ack"') || text.startsWith('{"type":"error"')) inFlight--;
    });
  }
  for (const ws of recipients) {
    ws.on("message", (data) => {
      const text = data.toString();
      if (!text.startsWith(EVENT_FRAME_PREFIX) || !text.includes(MESSAGE_KIND_FIELD)) return;
      const frame = JSON.parse(text) as ServerFrame;
      if (frame.type !== ServerFrameType.event || frame.event.kind !== EventKind.message || !senderIds.has(frame.event.message.from)) return;
      const [runTag, sentAt] = frame.event.message.body.split(":");
      if (Number(runTag) === run) record(received, Number(sentAt));
    });
  }

  const results: DeliveryResult[] = [];
  for (const rate of RATES) {
    run++;
    received = { latencies: [], lastDelivery: 0 };
    log(`delivery: ${rate} messages/s offered for ${RATE_S} s (window ${WINDOW})`);
    results.push(
      await offerLoad(
        rate,
        () => inFlight,
        () => received,
        (n) => {
          const i = n % pairs.length;
          inFlight++;
          senders[i]!.send(
            JSON.stringify({ type: ClientFrameType.send, clientMsgId: `r${run}-${n}`, to: pairs[i]!.recipient.id, body: `${run}:${performance.now()}` }),
          );
        },
      ),
    );
    const drainUntil = performance.now() + 10_000;
    while (inFlight > 0 && performance.now() < drainUntil) await sleep(20);
    await sleep(500);
  }
  for (const ws of [...senders, ...recipients]) ws.close();
  return results;
}

/** Events through `createRedisRealtime` only: append on "instance" A, routed to the owner on B. */
async function realtimeLayerPhase(redisUrl: string): Promise<DeliveryResult[]> {
  const config = { historyMaxLen: 1000, historyMaxAgeS: 3600, resumeMaxEvents: 500 };
  const clients = [new Redis(redisUrl), new Redis(redisUrl)];
  const [a, b] = await Promise.all(clients.map((redis, i) => createRedisRealtime({ redis, instanceId: `layer-${i}`, config })));
  const users = Array.from({ length: 100 }, (_, i) => 2_000_000 + i);
  await Promise.all(users.map((userId) => b!.owners.claim({ userId, connId: `layer-${userId}`, instanceId: "layer-1" })));
  let received: Received = { latencies: [], lastDelivery: 0 };
  let run = "";
  b!.bus.subscribe((_, stored) => {
    if (stored.event.kind === "profile" && stored.event.etag.startsWith(run)) record(received, Number(stored.event.etag.slice(run.length)));
  });
  const results: DeliveryResult[] = [];
  for (const rate of RATES) {
    run = `L${rate}:`;
    received = { latencies: [], lastDelivery: 0 };
    let inFlight = 0;
    log(`realtime layer: ${rate} events/s offered for ${RATE_S} s`);
    results.push(
      await offerLoad(
        rate,
        () => inFlight,
        () => received,
        (n) => {
          const userId = users[n % users.length]!;
          inFlight++;
          void a!.publish(userId, { kind: "profile", etag: `${run}${performance.now()}` }).finally(() => inFlight--);
        },
      ),
    );
    await sleep(300);
  }
  await Promise.all([a!.close(), b!.close()]);
  for (const client of clients) client.disconnect();
  return results;
}

// ---- 2. reconnect storm -------------------------------------------------------------------

type Strategy = "project backoff" | "fixed 5 s (old client)";
type Shutdown = "—" | "at once" | "drained";

interface StormCase {
  signal: "SIGKILL" | "SIGTERM";
  strategy: Strategy;
  shutdown: Shutdown;
  /** The victim instance's environment for this case. */
  env: Record<string, string>;
}

/** A drained shutdown of 10,000 sockets at 400/s takes 25 s: the budget must cover it (plus the close grace). */
const DRAINED_ENV: Record<string, string> = {
  SHUTDOWN_TIMEOUT_MS: "40000",
  ...(process.env.BENCH_DRAIN_RATE ? { SHUTDOWN_DRAIN_RATE: process.env.BENCH_DRAIN_RATE } : {}),
};
const STORM_CASES: StormCase[] = [
  { signal: "SIGKILL", strategy: "project backoff", shutdown: "—", env: {} },
  { signal: "SIGKILL", strategy: "fixed 5 s (old client)", shutdown: "—", env: {} },
  { signal: "SIGTERM", strategy: "project backoff", shutdown: "at once", env: { SHUTDOWN_DRAIN_RATE: "0" } },
  { signal: "SIGTERM", strategy: "fixed 5 s (old client)", shutdown: "at once", env: { SHUTDOWN_DRAIN_RATE: "0" } },
  { signal: "SIGTERM", strategy: "project backoff", shutdown: "drained", env: DRAINED_ENV },
];

interface StormResult {
  strategy: Strategy;
  kill: "SIGKILL (crash, 1006)" | "SIGTERM (deploy, 1012)";
  /** SIGTERM: every socket closed at once (SHUTDOWN_DRAIN_RATE=0) or drained in slices. */
  shutdown: Shutdown;
  sockets: number;
  reconnected: number;
  timeTo50Ms: number;
  timeTo99Ms: number;
  timeToAllMs: number;
  peakAcceptsPerS: number;
  peakAcceptsPer100Ms: number;
  failedAttempts: number;
  /** Why attempts failed (close code and reason before `welcome`, or a timeout), with counts. */
  failureReasons: Record<string, number>;
  /** Accept rate of the victim while the sockets were opened in batches of 500 (its capacity, roughly). */
  batchedAcceptsPerS: number;
}

function delayFor(strategy: Strategy, code: number, reason: string, attempt: number): number {
  if (strategy === "fixed 5 s (old client)") return OLD_CLIENT_DELAY_MS;
  if (closeAction(code, reason) !== CloseAction.reconnect) return Number.POSITIVE_INFINITY;
  return attempt === 0 && isServiceRestart(code, reason) ? restartJitter(Math.random()) : backoff(attempt, Math.random());
}

async function reconnectStorm(
  { strategy, signal, shutdown }: StormCase,
  target: Instance,
  victim: () => Instance,
  users: { id: number; token: string }[],
): Promise<StormResult> {
  log(`storm: ${users.length} sockets on ${victim().name}, ${signal}${shutdown === "—" ? "" : ` (${shutdown})`}, clients use ${strategy}`);
  const clients: { ws: WebSocket }[] = [];
  const connectStarted = performance.now();
  for (let i = 0; i < users.length; i += 500) {
    const batch = users.slice(i, i + 500).map((u) => ({ ws: openChatSocket(victim().wsUrl, u.id, u.token) }));
    await Promise.all(batch.map((c) => untilFrame(c.ws, ServerFrameType.welcome)));
    clients.push(...batch);
  }
  const batchedAcceptsPerS = Math.round(clients.length / ((performance.now() - connectStarted) / 1000));
  log(`  ${clients.length} sockets connected to ${victim().name} (${batchedAcceptsPerS} accepts/s in batches of 500); killing it`);

  const acceptedAt: number[] = [];
  let failedAttempts = 0;
  const failureReasons = new Map<string, number>();
  let killedAt = 0;
  const finalSockets: WebSocket[] = [];
  const reconnect = (user: { id: number; token: string }, attempt: number, code: number, reason: string) => {
    const delay = delayFor(strategy, code, reason, attempt);
    if (!Number.isFinite(delay)) return;
    setTimeout(() => {
      const ws = openChatSocket(target.wsUrl, user.id, user.token);
      untilFrame(ws, ServerFrameType.welcome, 30_000).then(
        () => {
          acceptedAt.push(performance.now() - killedAt);
          finalSockets.push(ws);
        },
        (error: Error) => {
          failedAttempts++;
          failureReasons.set(error.message, (failureReasons.get(error.message) ?? 0) + 1);
          ws.terminate();
          reconnect(user, attempt + 1, CloseCode.abnormal, "");
        },
      );
    }, delay);
  };
  clients.forEach((client, i) => {
    client.ws.once("close", (code, reason) => reconnect(users[i]!, 0, code, reason.toString()));
  });

  killedAt = performance.now();
  await stopInstance(victim(), signal);
  const deadline = performance.now() + STORM_TIMEOUT_S * 1000;
  while (acceptedAt.length < users.length && performance.now() < deadline) await sleep(50);

  const times = [...acceptedAt].sort((x, y) => x - y);
  let peakPerS = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= 1000) lo++;
    peakPerS = Math.max(peakPerS, hi - lo + 1);
  }
  const buckets = new Map<number, number>();
  for (const t of times) buckets.set(Math.floor(t / 100), (buckets.get(Math.floor(t / 100)) ?? 0) + 1);
  const at = (fraction: number) => round(times[Math.ceil(fraction * users.length) - 1] ?? NaN);
  const result: StormResult = {
    strategy,
    kill: signal === "SIGKILL" ? "SIGKILL (crash, 1006)" : "SIGTERM (deploy, 1012)",
    shutdown,
    sockets: users.length,
    reconnected: times.length,
    timeTo50Ms: at(0.5),
    timeTo99Ms: at(0.99),
    timeToAllMs: times.length === users.length ? round(times.at(-1)!) : NaN,
    peakAcceptsPerS: peakPerS,
    peakAcceptsPer100Ms: Math.max(0, ...buckets.values()),
    failedAttempts,
    failureReasons: Object.fromEntries(failureReasons),
    batchedAcceptsPerS,
  };
  log(
    `  → 99 % in ${result.timeTo99Ms} ms, peak ${result.peakAcceptsPerS} accepts/s (${result.peakAcceptsPer100Ms} in 100 ms), ${failedAttempts} failed attempts ${JSON.stringify(result.failureReasons)}`,
  );

  for (const ws of finalSockets) ws.close();
  for (let i = 0; i < 200 && (await gauge(target.url, "switchboard_ws_connections")) > 0; i++) await sleep(100);
  return result;
}

// ---- main -----------------------------------------------------------------------------------

function ms(value: number): string {
  return Number.isNaN(value) ? `not within ${STORM_TIMEOUT_S} s` : `${value} ms`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const loadavgBefore = os.loadavg();
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`);
  const postgres = await startPostgres();
  const redis = await startLocalRedis();
  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url };
  const ports = [await freePort(), await freePort()];
  let a = await startInstance("bench-a", ports[0]!, env);
  const b = await startInstance("bench-b", ports[1]!, env);
  try {
    const tokens = new TokenService(SECRET, null as unknown as Store, { accessTtlS: 3600, refreshTtlS: 3600 });
    const db = await openDb({ databaseUrl: postgres.url });
    const store = new Store(db);
    const pairs = [];
    for (let i = 0; i < PAIRS; i++) {
      const [sender, recipient] = await Promise.all(
        ["s", "r"].map((kind) =>
          store.createUser({ username: `bench-${kind}${i}`, passwordHash: "-", displayName: `Bench ${kind}${i}`, email: `bench-${kind}${i}@example.com` }),
        ),
      );
      pairs.push({
        sender: { id: sender!.id, token: await tokens.issueAccess({ userId: sender!.id, role: "user", sessionId: randomUUID() }) },
        recipient: { id: recipient!.id, token: await tokens.issueAccess({ userId: recipient!.id, role: "user", sessionId: randomUUID() }) },
      });
    }
    await db.close();

    const delivery = PHASES.has("delivery") ? await deliveryPhase(a, b, pairs) : [];
    const realtimeLayer = PHASES.has("delivery") ? await realtimeLayerPhase(redis.url) : [];

    const stormUsers = await Promise.all(
      Array.from({ length: STORM_SOCKETS }, async (_, i) => ({
        id: STORM_USER_BASE + i,
        token: await tokens.issueAccess({ userId: STORM_USER_BASE + i, role: "user", sessionId: randomUUID() }),
      })),
    );
    const storms: StormResult[] = [];
    if (PHASES.has("storm")) await stopInstance(a, "SIGTERM"); // each case starts its own victim
    for (const stormCase of PHASES.has("storm") ? STORM_CASES : []) {
      a = await startInstance("bench-a", ports[0]!, { ...env, ...stormCase.env });
      storms.push(await reconnectStorm(stormCase, b, () => a, stormUsers));
    }
    const atOnce = storms.find((s) => s.shutdown === "at once" && s.strategy === "project backoff");
    const drained = storms.find((s) => s.shutdown === "drained");
    const drainSummary =
      atOnce && drained
        ? [
            "",
            `**Deploy drain** (SIGTERM, project backoff): peak accepts/s on the survivor ${atOnce.peakAcceptsPerS} at once → **${drained.peakAcceptsPerS} drained** (${Math.round((drained.peakAcceptsPerS / atOnce.peakAcceptsPerS) * 100)} % of at once; target ≤ 25 %), 99 % back after ${ms(atOnce.timeTo99Ms)} → ${ms(drained.timeTo99Ms)}, failed attempts ${drained.failedAttempts}, lost (never reconnected) ${drained.sockets - drained.reconnected}.`,
          ]
        : [];

    const report = {
      machine,
      setup: { instances: 2, pairs: PAIRS, window: WINDOW, stormSockets: STORM_SOCKETS, loadavgBefore, loadavgAfter: os.loadavg() },
      delivery,
      realtimeLayer,
      storms,
    };
    const md = [
      "# Cluster benchmark (`npm run bench:cluster`)",
      "",
      `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.redis}. ${machine.date}.`,
      "Two server instances (separate processes) + one redis-server + one Postgres + this load generator, all on this machine, loopback only.",
      "",
      "## Delivery: sender socket on instance A → recipient socket on instance B",
      "",
      `${PAIRS} sender/recipient pairs; each message is a \`send\` frame (stored in Postgres, then \`message\` + \`unread\` events appended to Redis Streams and routed over pub/sub to B). At most ${WINDOW} sends unacknowledged at a time (${Math.round(WINDOW / PAIRS)} per sender socket, pipelined); ${RATE_S} s per rate; every socket sends \`resume\` after \`welcome\`, as clients do; latency is measured in this process from \`send\` to the recipient's \`event\` frame.`,
      "",
      "| offered msg/s | sent | delivered | delivered msg/s | p50 | p99 | max | sender held back by window |",
      "|---|---|---|---|---|---|---|---|",
      ...delivery.map(
        (d) =>
          `| ${d.offeredPerS} | ${d.sent} | ${d.delivered} | **${d.deliveredPerS}** | ${d.latencyMs.p50} ms | ${d.latencyMs.p99} ms | ${d.latencyMs.max} ms | ${d.windowLimited ? "yes" : "no"} |`,
      ),
      "",
      "The same offered rates through the realtime layer alone (`createRedisRealtime` ×2 in the load generator on their own connections: `publish` = one Lua script appending to the user's Stream and PUBLISHing to the owner's instance, received by the other one; no database, no WebSocket):",
      "",
      "| offered events/s | sent | delivered | delivered events/s | p50 | p99 | max | held back by window |",
      "|---|---|---|---|---|---|---|---|",
      ...realtimeLayer.map(
        (d) =>
          `| ${d.offeredPerS} | ${d.sent} | ${d.delivered} | **${d.deliveredPerS}** | ${d.latencyMs.p50} ms | ${d.latencyMs.p99} ms | ${d.latencyMs.max} ms | ${d.windowLimited ? "yes" : "no"} |`,
      ),
      "",
      "## Reconnect storm: one instance holding the sockets is killed, clients move to the other",
      "",
      `${STORM_SOCKETS} sockets (one per user). "project backoff" = \`closeAction\` + \`backoff(attempt, random)\` (1006: 0.5–1 s first, then doubling) or \`restartJitter\` (1012: 0–5 s first); "fixed 5 s" = the old client's constant delay. Time is from the kill signal.`,
      "",
      "| kill | shutdown | client policy | reconnected | 50 % | 99 % | all | peak accepts/s (1 s window) | peak in 100 ms | failed attempts | accepts/s when opened in batches of 500 |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
      ...storms.map(
        (s) =>
          `| ${s.kill} | ${s.shutdown} | ${s.strategy} | ${s.reconnected}/${s.sockets} | ${ms(s.timeTo50Ms)} | **${ms(s.timeTo99Ms)}** | ${ms(s.timeToAllMs)} | **${s.peakAcceptsPerS}** | ${s.peakAcceptsPer100Ms} | ${s.failedAttempts} | ${s.batchedAcceptsPerS} |`,
      ),
      "",
      ...drainSummary,
      "",
      "### Reading the numbers",
      "",
      "- The send path: sends from all sockets are group-committed (one database call per batch: a multi-row INSERT and the recipients' unread counts; two lanes keyed by sender, each starting at most one batch per 2 ms), a socket's sends are pipelined (acks and events still in send order), and the events of one event-loop turn go to Redis in one Lua call (history appends + PUBLISH to each owner's instance; an event for a socket on the sending instance is delivered from the reply). Once the offered rate is above what the send path delivers, the window fills: the sender is held back and latency is the window divided by the delivered rate (Little's law), not a property of one message.",
      "- What bounds it on this box: the two cores themselves. At 10,000 msg/s they are about 95 % busy (`vmstat`), and an on-CPU profile of the whole machine (`perf record -e cpu-clock -a` for 5 s in that phase, 2026-12-04, 2 × AMD EPYC) split it: instance A (the senders') 25 %, Redis 21 %, instance B 13 %, Postgres 12 % (two backends, one per write lane), this load generator 11 %, the instances' helper threads (GC, libuv) most of the rest. No one process is the bottleneck; the realtime-layer table is the Redis path on its own.",
      "- A reconnect storm is bounded by how fast one instance accepts (TLS-less handshake + token check + owner claim + head, in one Node process; last column). The listen backlog is 4096 (it was Node's default 511, which dropped SYNs under a storm; the kernel retries those after 1 s, 3 s, 7 s…). The fixed 5 s delay sends every client in the same instant (the highest peak per 100 ms); the project's policy spreads the first attempts (0.5–1 s after a crash, 0–5 s after a restart) and never waits a fixed 5 s first.",
      "The load generator, both instances, Redis and Postgres share the machine's cores, so the numbers are a floor for each component, not a capacity plan.",
      `Load average (1/5/15 min) before: ${loadavgBefore.map((l) => l.toFixed(2)).join(" / ")}; after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" / ")} — other work on this shared machine ran at the same time.`,
    ].join("\n");
    const paths = await writeReport("cluster-bench", report, md);
    log(`wrote ${paths.join(", ")}`);
    process.stdout.write(md + "\n");
  } finally {
    await Promise.all([stopInstance(a, "SIGTERM"), stopInstance(b, "SIGTERM")]);
    await redis.stop();
    await postgres.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`cluster bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
