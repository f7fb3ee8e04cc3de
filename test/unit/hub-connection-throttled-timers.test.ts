import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import { ClientFrameType, ServerFrameType } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { Connection, type SocketConstructor, type Timers } from "../../shared/hub/connection.js";

// A hidden tab's timers are throttled: Chrome runs them only at aligned wake-ups (once a second,
// once a minute under intensive throttling), so the keepalive and the dead-link timer fire late
// and together. Here every timer fires at the next 300 ms wake-up; the keepalive is 40 ms.

const WAKE_UP_MS = 300;
const alignedTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, Math.ceil((Date.now() + ms) / WAKE_UP_MS) * WAKE_UP_MS - Date.now()),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

let server: WebSocketServer;
let url: string;
let sockets: ServerSocket[];
let answerPings: boolean;
const connections: Connection[] = [];

beforeEach(async () => {
  sockets = [];
  answerPings = true;
  server = new WebSocketServer({ port: 0, handleProtocols: () => "switchboard.v1" });
  server.on("connection", (socket) => {
    sockets.push(socket);
    socket.on("message", (data) => {
      if (answerPings && JSON.parse(String(data)).type === ClientFrameType.ping) socket.send(JSON.stringify({ type: ServerFrameType.pong }));
    });
    socket.send(JSON.stringify({ type: ServerFrameType.welcome, userId: 7, connId: "c", generation: 1, epoch: "e1", seq: 0, heartbeatIntervalMs: 20000 }));
  });
  await once(server, "listening");
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/chat/7`;
});

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.stop();
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

function start(): { connection: Connection; states: ConnectionState[] } {
  const states: ConnectionState[] = [];
  const connection = new Connection(
    {
      WebSocket: WebSocket as unknown as SocketConstructor,
      timers: alignedTimers,
      random: () => 0,
      isOnline: () => true,
      now: Date.now,
      credentials: async () => ({ url, accessToken: "token-1" }),
      refresh: async () => "refreshed",
      onState: (next) => states.push(next),
      onFrame: () => undefined,
    },
    ConnectionState.connecting,
    { keepaliveMs: 40, backoffBaseMs: 20 },
  );
  connection.start();
  connections.push(connection);
  return { connection, states };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("dead-link detection with throttled timers", () => {
  it("a healthy link whose timers fire late and together is not declared dead", async () => {
    const { connection, states } = start();
    await sleep(WAKE_UP_MS * 6);
    expect(connection.state).toBe(ConnectionState.open);
    expect(states).not.toContain(ConnectionState.backoff);
    expect(sockets).toHaveLength(1);
  });

  it("a peer that stops answering is still found dead at the next wake-ups", async () => {
    const { states } = start();
    await sleep(50);
    answerPings = false;
    const deadline = Date.now() + WAKE_UP_MS * 10;
    while (!states.includes(ConnectionState.backoff) && Date.now() < deadline) await sleep(20);
    expect(states).toContain(ConnectionState.backoff);
  });
});
