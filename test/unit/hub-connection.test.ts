import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import { BEARER_PROTOCOL_PREFIX, ClientFrameType, ServerClose, ServerFrameType, SUBPROTOCOL, type ServerFrame } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { Connection, LINK_CHECK_MS, type ConnectionDeps, type RefreshOutcome, type SocketConstructor } from "../../shared/hub/connection.js";

// The service worker's connection logic, run in Node against a real `ws` server (the WebSocket constructor and timers are injected):
// the WebSocket class, timers, randomness and connectivity are injected.

interface Harness {
  connection: Connection;
  states: ConnectionState[];
  frames: ServerFrame[];
  refreshes: number;
  online: boolean;
  logs: string[];
}

let server: WebSocketServer;
let url: string;
let sockets: Array<{ socket: ServerSocket; protocols: string[] }>;
let onConnection: (socket: ServerSocket, index: number) => void;
const harnesses: Harness[] = [];

beforeEach(async () => {
  sockets = [];
  onConnection = (socket) => welcome(socket);
  server = new WebSocketServer({
    port: 0,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  server.on("connection", (socket, request) => {
    const protocols = String(request.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim());
    sockets.push({ socket, protocols });
    socket.on("message", (data) => {
      if (JSON.parse(String(data)).type === ClientFrameType.ping) socket.send(JSON.stringify({ type: ServerFrameType.pong }));
    });
    onConnection(socket, sockets.length - 1);
  });
  await once(server, "listening");
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/chat/7`;
});

afterEach(async () => {
  for (const harness of harnesses.splice(0)) harness.connection.stop();
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

function welcome(socket: ServerSocket, generation = 1): void {
  socket.send(
    JSON.stringify({ type: ServerFrameType.welcome, userId: 7, connId: `c${generation}`, generation, epoch: "e1", seq: 0, heartbeatIntervalMs: 20000 }),
  );
}

function start(
  options: {
    state?: ConnectionState;
    keepaliveMs?: number;
    refresh?: () => Promise<RefreshOutcome>;
    token?: () => string;
    rateLimitedMinDelayMs?: number;
  } = {},
): Harness {
  const harness: Harness = { connection: undefined as unknown as Connection, states: [], frames: [], refreshes: 0, online: true, logs: [] };
  const deps: ConnectionDeps = {
    WebSocket: WebSocket as unknown as SocketConstructor,
    timers: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
    random: () => 0,
    isOnline: () => harness.online,
    credentials: async () => ({ url, accessToken: options.token?.() ?? "token-1" }),
    refresh: async () => {
      harness.refreshes += 1;
      return (await options.refresh?.()) ?? "refreshed";
    },
    onState: (next) => harness.states.push(next),
    onFrame: (frame) => harness.frames.push(frame),
    log: (message) => harness.logs.push(message),
  };
  harness.connection = new Connection(deps, options.state ?? ConnectionState.connecting, {
    keepaliveMs: options.keepaliveMs ?? 20_000,
    backoffBaseMs: 20,
    ...(options.rateLimitedMinDelayMs === undefined ? {} : { rateLimitedMinDelayMs: options.rateLimitedMinDelayMs }),
  });
  harness.connection.start();
  harnesses.push(harness);
  return harness;
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("service worker connection", () => {
  it("offers the subprotocol and the bearer token (never in the URL) and is open after welcome", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    expect(sockets[0]?.protocols).toEqual([SUBPROTOCOL, `${BEARER_PROTOCOL_PREFIX}token-1`]);
    expect(harness.frames[0]?.type).toBe(ServerFrameType.welcome);
  });

  it("sends an application ping every keepalive period and hides the pongs", async () => {
    let pings = 0;
    onConnection = (socket) => {
      welcome(socket);
      socket.on("message", () => (pings += 1));
    };
    const harness = start({ keepaliveMs: 30 });
    await until(() => pings >= 3);
    expect(harness.frames.every((f) => f.type !== ServerFrameType.pong)).toBe(true);
    expect(harness.connection.state).toBe(ConnectionState.open);
  });

  it("stays closed when replaced and shows `replaced`; only connectNow (Use here) reconnects", async () => {
    const harness = start({ keepaliveMs: 30 });
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.socket.close(ServerClose.replaced.code, ServerClose.replaced.reason);
    await until(() => harness.connection.state === ConnectionState.replaced);
    await sleep(200);
    expect(sockets).toHaveLength(1);
    harness.connection.connectNow();
    await until(() => harness.connection.state === ConnectionState.open);
    expect(sockets).toHaveLength(2);
  });

  it("a restarted worker in a parked state does not connect", async () => {
    for (const state of [ConnectionState.replaced, ConnectionState.authRequired, ConnectionState.signedOut]) start({ state });
    await sleep(100);
    expect(sockets).toHaveLength(0);
  });

  it("Token expired → refresh → reconnect with the new token, no user action", async () => {
    let token = "old";
    const harness = start({ token: () => token, refresh: async () => ((token = "new"), "refreshed") });
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.socket.close(ServerClose.tokenExpired.code, ServerClose.tokenExpired.reason);
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
    expect(harness.refreshes).toBe(1);
    expect(sockets[1]?.protocols).toContain(`${BEARER_PROTOCOL_PREFIX}new`);
  });

  it("a failed refresh asks for sign-in and does not retry", async () => {
    const harness = start({ refresh: async () => "login" });
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.socket.close(ServerClose.tokenExpired.code, ServerClose.tokenExpired.reason);
    await until(() => harness.connection.state === ConnectionState.authRequired);
    await sleep(150);
    expect(sockets).toHaveLength(1);
  });

  it.each([ServerClose.tokenInvalid, ServerClose.authenticationFailed])("$reason → auth-required without a refresh or a retry", async (close) => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.socket.close(close.code, close.reason);
    await until(() => harness.connection.state === ConnectionState.authRequired);
    await sleep(150);
    expect(harness.refreshes).toBe(0);
    expect(sockets).toHaveLength(1);
  });

  it.each([ServerClose.serviceRestart, ServerClose.heartbeatTimeout, ServerClose.slowConsumer])("$reason → backoff, then reconnects", async (close) => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.socket.close(close.code, close.reason);
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
    expect(harness.states).toContain(ConnectionState.backoff);
  });

  it("Rate limited → waits at least the cooldown (not the 20 ms backoff), then reconnects once", async () => {
    const harness = start({ rateLimitedMinDelayMs: 400 });
    await until(() => harness.connection.state === ConnectionState.open);
    const closedAt = Date.now();
    sockets[0]!.socket.close(ServerClose.rateLimited.code, ServerClose.rateLimited.reason);
    await until(() => harness.connection.state === ConnectionState.backoff);
    await sleep(200);
    expect(sockets).toHaveLength(1); // the plain backoff (20 ms base) would have reconnected by now
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(400);
    await sleep(100);
    expect(sockets).toHaveLength(2);
  });

  it("an abnormal drop (1006) reconnects with backoff", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.socket.terminate();
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
  });

  it("no frame for 2.5 keepalive periods → the link is dead → reconnect", async () => {
    onConnection = (socket, index) => {
      welcome(socket);
      if (index === 0) socket.removeAllListeners("message"); // a dead peer: never answers pings
    };
    const harness = start({ keepaliveMs: 40 });
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
    expect(harness.states).toContain(ConnectionState.backoff);
  });

  it("ignores events of an older socket (generation)", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    const old = sockets[0]!.socket;
    harness.connection.connectNow();
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
    const before = harness.frames.length;
    old.send(JSON.stringify({ type: ServerFrameType.resumed, recovered: false })); // may or may not still arrive
    old.close(ServerClose.replaced.code, ServerClose.replaced.reason);
    await sleep(100);
    expect(harness.frames.length).toBe(before);
    expect(harness.connection.state).toBe(ConnectionState.open);
  });

  it("offline waits for connectivity instead of burning attempts", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    harness.online = false;
    sockets[0]!.socket.terminate();
    await until(() => harness.connection.state === ConnectionState.offline);
    await sleep(150);
    expect(sockets).toHaveLength(1);
    harness.online = true;
    harness.connection.setOnline(true);
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
  });

  it("offline comes back by itself when the network returns without an online event (a service worker gets none)", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    harness.online = false;
    sockets[0]!.socket.terminate();
    await until(() => harness.connection.state === ConnectionState.offline);
    await sleep(150);
    expect(sockets).toHaveLength(1);
    harness.online = true; // navigator.onLine flips; no setOnline() call
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
  });

  it("told it went offline while open: a link that no longer answers is dropped within the link check, not after 2.5 keepalive periods", async () => {
    onConnection = (socket, index) => {
      welcome(socket);
      if (index === 0) socket.removeAllListeners("message"); // the network is gone: pings go unanswered
    };
    const harness = start(); // keepalive 20 s: the dead-link check alone would take 50 s
    await until(() => harness.connection.state === ConnectionState.open);
    harness.online = false;
    const told = Date.now();
    harness.connection.setOnline(false);
    await until(() => harness.connection.state === ConnectionState.offline, LINK_CHECK_MS + 2000);
    expect(Date.now() - told).toBeGreaterThanOrEqual(LINK_CHECK_MS - 50);
    expect(harness.logs.some((line) => line.includes("link check"))).toBe(true);
    harness.online = true;
    harness.connection.setOnline(true);
    await until(() => sockets.length === 2 && harness.connection.state === ConnectionState.open);
  });

  it("told it went offline, but the link still answers (a server on this machine): it stays open", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    harness.online = false;
    harness.connection.setOnline(false);
    await sleep(LINK_CHECK_MS + 300);
    expect(harness.connection.state).toBe(ConnectionState.open);
    expect(sockets).toHaveLength(1);
  });

  it("no offline event (a service worker): the keepalive sees isOnline() false and checks the link", async () => {
    onConnection = (socket, index) => {
      welcome(socket);
      if (index === 0) socket.removeAllListeners("message");
    };
    // Keepalive 2.4 s: its check ends at 2.4 + 3 s, before the dead-link check's 6 s.
    const harness = start({ keepaliveMs: 2400 });
    await until(() => harness.connection.state === ConnectionState.open);
    harness.online = false; // navigator.onLine flips; no setOnline() call
    await until(() => harness.connection.state === ConnectionState.offline, 10_000);
    expect(harness.logs.some((line) => line.includes("link check"))).toBe(true);
    expect(harness.states).not.toContain(ConnectionState.backoff); // offline at once, no attempts burnt
  });

  it("ignores garbage frames without throwing", async () => {
    onConnection = (socket) => {
      socket.send("not json");
      socket.send(JSON.stringify({ type: "nope" }));
      welcome(socket);
    };
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    expect(harness.frames.map((f) => f.type)).toEqual([ServerFrameType.welcome]);
  });
});
