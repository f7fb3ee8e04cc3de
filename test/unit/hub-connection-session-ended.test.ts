import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import { ServerClose, ServerFrameType, SUBPROTOCOL } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { Connection, type ConnectionDeps, type SocketConstructor } from "../../shared/hub/connection.js";

// The service worker's connection against a real `ws` server, with the WebSocket class, timers and
// randomness injected (as in extension-connection.test.ts): a server-ended session signs out.

let server: WebSocketServer;
let url: string;
let sockets: ServerSocket[];

beforeEach(async () => {
  sockets = [];
  server = new WebSocketServer({ port: 0, handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false) });
  server.on("connection", (socket) => {
    sockets.push(socket);
    socket.send(JSON.stringify({ type: ServerFrameType.welcome, userId: 7, connId: "c1", generation: 1, epoch: "e1", seq: 0, heartbeatIntervalMs: 20000 }));
  });
  await once(server, "listening");
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/chat/7`;
});

afterEach(async () => {
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function start(): { connection: Connection; states: ConnectionState[]; refreshes: number; sessionEnded: number } {
  const harness = { connection: undefined as unknown as Connection, states: [] as ConnectionState[], refreshes: 0, sessionEnded: 0 };
  const deps: ConnectionDeps = {
    WebSocket: WebSocket as unknown as SocketConstructor,
    timers: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
    random: () => 0,
    isOnline: () => true,
    credentials: async () => ({ url, accessToken: "token-1" }),
    refresh: async () => {
      harness.refreshes += 1;
      return "refreshed";
    },
    onSessionEnded: () => (harness.sessionEnded += 1),
    onState: (next) => harness.states.push(next),
    onFrame: () => undefined,
  };
  harness.connection = new Connection(deps, ConnectionState.connecting, { backoffBaseMs: 20 });
  harness.connection.start();
  return harness;
}

describe("service worker connection: the server ended the session", () => {
  it("1008 Session ended → signed-out, the credentials are forgotten, no refresh and no reconnect", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.close(ServerClose.sessionEnded.code, ServerClose.sessionEnded.reason);
    await until(() => harness.connection.state === ConnectionState.signedOut);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(harness.connection.state).toBe(ConnectionState.signedOut);
    expect(harness.sessionEnded).toBe(1);
    expect(harness.refreshes).toBe(0);
    expect(sockets).toHaveLength(1);
    expect(harness.states).not.toContain(ConnectionState.authRequired);
  });

  it("a restarted worker that was signed out this way does not connect", async () => {
    const harness = start();
    await until(() => harness.connection.state === ConnectionState.open);
    sockets[0]!.close(ServerClose.sessionEnded.code, ServerClose.sessionEnded.reason);
    await until(() => harness.connection.state === ConnectionState.signedOut);
    harness.connection.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sockets).toHaveLength(1);
  });
});
