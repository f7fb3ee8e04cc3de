import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { RefreshTransport, RestErrorCode, RestPath, ServerFrameType } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { TabRequestKind } from "../../shared/sdk/hub-messages.js";
import { emptySnapshot, type Snapshot } from "../../shared/sdk/snapshot.js";
import type { SocketConstructor } from "../../shared/hub/connection.js";
import { Hub } from "../../shared/hub/hub.js";
import { memoryArea } from "../../shared/hub/key-value-area.js";
import { SNAPSHOT_KEY } from "../../shared/hub/snapshot-keeper.js";
import { memoryTokens } from "../../shared/hub/token-keeper.js";

// A web-app leader's hub: no token in memory at start, the refresh token in the server's cookie
// (a scripted fetch stands in for it), a real `ws` server for the socket.
const ALICE = { id: 1, username: "alice", displayName: "Alice", role: "user" };

let server: WebSocketServer;
let serverUrl: string;
let protocols: string[][];
let requests: Array<{ method: string; path: string; body: unknown; credentials?: string }>;
let refreshStatus: number;
const hubs: Hub[] = [];

beforeEach(async () => {
  protocols = [];
  requests = [];
  refreshStatus = 200;
  server = new WebSocketServer({ port: 0, handleProtocols: () => "switchboard.v1" });
  server.on("connection", (socket, request) => {
    protocols.push(
      String(request.headers["sec-websocket-protocol"])
        .split(",")
        .map((p) => p.trim()),
    );
    socket.send(JSON.stringify({ type: ServerFrameType.welcome, userId: 1, connId: "c", generation: 1, epoch: "e1", seq: 3, heartbeatIntervalMs: 20000 }));
  });
  await once(server, "listening");
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const hub of hubs.splice(0)) hub.abandon();
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

const fakeFetch: typeof fetch = async (input, init) => {
  const path = new URL(String(input)).pathname;
  const method = init?.method ?? "GET";
  requests.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined, credentials: init?.credentials });
  if (path === RestPath.refresh) {
    return refreshStatus === 200
      ? Response.json({ accessToken: "from-cookie", expiresIn: 900, user: ALICE })
      : Response.json({ error: { code: RestErrorCode.refreshInvalid, message: "no cookie" } }, { status: 401 });
  }
  if (path === RestPath.login) return Response.json({ accessToken: "after-login", expiresIn: 900, user: ALICE });
  if (path === RestPath.logout) return new Response(null, { status: 204 });
  return Response.json({ error: { code: "not_found", message: "no route" } }, { status: 404 });
};

async function startHub(stored: Snapshot = { ...emptySnapshot(), state: ConnectionState.open, user: ALICE, epoch: "e1", seq: 3 }) {
  const area = memoryArea({ [SNAPSHOT_KEY]: stored });
  const hub = await Hub.start({
    world: {
      WebSocket: WebSocket as unknown as SocketConstructor,
      timers: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
      random: () => 0,
      isOnline: () => true,
      fetch: fakeFetch,
      now: Date.now,
    },
    snapshotArea: area,
    tokens: memoryTokens(),
    settings: { serverUrl, keepaliveMs: 20_000, profileFreshMs: 300_000, backoffBaseMs: 20 },
    broadcast: () => undefined,
  });
  hubs.push(hub);
  return { hub, area };
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("a web-app leader's hub with the cookie transport", () => {
  it("starts with no token, refreshes once from the cookie (empty body, credentials included) and connects with it", async () => {
    const { hub } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    const refreshes = requests.filter((r) => r.path === RestPath.refresh);
    expect(refreshes).toEqual([{ method: "POST", path: RestPath.refresh, body: {}, credentials: "include" }]);
    expect(protocols[0]).toContain("bearer.from-cookie");
  });

  it("a refused cookie parks in auth-required and is not tried again; sign-in asks for the cookie transport", async () => {
    refreshStatus = 401;
    const { hub } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.authRequired);
    await hub.handleRequest({ kind: TabRequestKind.useHere, requestId: "u", params: {} }, () => undefined);
    expect(requests.filter((r) => r.path === RestPath.refresh)).toHaveLength(1);
    expect(protocols).toHaveLength(0);

    await hub.handleRequest({ kind: TabRequestKind.signIn, requestId: "s", params: { username: "alice", password: "demo" } }, () => undefined);
    expect(requests.find((r) => r.path === RestPath.login)?.body).toEqual({ username: "alice", password: "demo", refreshTransport: RefreshTransport.cookie });
    await until(() => hub.snapshot.state === ConnectionState.open);
    expect(protocols[0]).toContain("bearer.after-login");
  });

  it("a visitor who never signed in makes no request at all", async () => {
    const { hub } = await startHub(emptySnapshot());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hub.snapshot.state).toBe(ConnectionState.signedOut);
    expect(requests).toHaveLength(0);
  });

  it("sign-out posts logout with an empty body (the server revokes the cookie's token) and stores an empty snapshot", async () => {
    const { hub, area } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    await hub.handleRequest({ kind: TabRequestKind.signOut, requestId: "o", params: {} }, () => undefined);
    expect(requests.find((r) => r.path === RestPath.logout)).toMatchObject({ method: "POST", body: {}, credentials: "include" });
    await until(() => (area.data.get(SNAPSHOT_KEY) as { user: unknown } | undefined)?.user === null);
  });
});
