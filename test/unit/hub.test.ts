import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import {
  ClientFrameType,
  EventKind,
  RestErrorCode,
  RestPath,
  ServerClose,
  resumeFromProtocols,
  ServerFrameType,
  type ChatMessage,
  type Profile,
} from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { HubMessageKind, TabRequestKind, type HubMessage } from "../../shared/sdk/hub-messages.js";
import { emptySnapshot, type Snapshot } from "../../shared/sdk/snapshot.js";
import type { SocketConstructor } from "../../shared/hub/connection.js";
import { Hub } from "../../shared/hub/hub.js";
import { memoryArea } from "../../shared/hub/key-value-area.js";
import { SNAPSHOT_KEY } from "../../shared/hub/snapshot-keeper.js";
import { OUTBOX_KEY } from "../../shared/hub/outbox.js";
import { OutboxState } from "../../shared/sdk/outbox-entry.js";
import { AUTH_KEY, storedTokens } from "../../shared/hub/token-keeper.js";

// The worker's hub in Node: a real `ws` server for the socket, a scripted fetch for REST,
// in-memory storage areas for chrome.storage (the world is injected, so the real hub runs in Node).

const ALICE = { id: 1, username: "alice", displayName: "Alice", role: "user" };
const PROFILE: Profile = { ...ALICE, email: "a@example.com", phone: null, avatarUrl: null, bio: "", permissions: [], updatedAt: "2026-01-01T00:00:00Z" };

let server: WebSocketServer;
let serverUrl: string;
let sockets: ServerSocket[];
let received: Array<Record<string, unknown>>;
let requests: Array<{ method: string; path: string; headers: Record<string, string>; cache?: string }>;
let routes: Record<string, (headers: Record<string, string>) => Response>;
/** The subprotocols each upgrade offered, and whether the scripted server takes a `resume.` entry (a server that knows it). */
let offered: string[][];
let takesUpgradeResume: boolean;
/** A REST path whose answers wait for this promise (requests are still counted at once). */
let holds: Record<string, Promise<void>>;
const hubs: Hub[] = [];

beforeEach(async () => {
  sockets = [];
  offered = [];
  takesUpgradeResume = false;
  holds = {};
  received = [];
  requests = [];
  routes = {
    [`GET ${RestPath.unreadCount}`]: () => Response.json({ unread_count: 4 }),
    [`GET ${RestPath.profileMe}`]: (headers) =>
      headers["if-none-match"] === '"v1"'
        ? new Response(null, { status: 304, headers: { etag: '"v1"' } })
        : Response.json(PROFILE, { headers: { etag: '"v1"' } }),
    [`GET ${RestPath.users}`]: () => Response.json({ users: [ALICE, { id: 2, username: "bob", displayName: "Bob" }] }),
    [`GET ${RestPath.conversations}`]: () => Response.json({ conversations: [] }),
  };
  server = new WebSocketServer({ port: 0, handleProtocols: () => "switchboard.v1" });
  server.on("connection", (socket, req) => {
    sockets.push(socket);
    const protocols = String(req.headers["sec-websocket-protocol"] ?? "").split(/, */);
    offered.push(protocols);
    socket.on("message", (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
    const resuming = takesUpgradeResume && resumeFromProtocols(protocols) !== null;
    socket.send(
      JSON.stringify({
        type: ServerFrameType.welcome,
        userId: 1,
        connId: "c",
        generation: sockets.length,
        epoch: "e1",
        seq: 10,
        heartbeatIntervalMs: 20000,
        ...(resuming ? { resuming: true } : {}),
      }),
    );
  });
  await once(server, "listening");
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.dispose().catch(() => undefined);
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

const fakeFetch: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  const headers = (init?.headers ?? {}) as Record<string, string>;
  const method = init?.method ?? "GET";
  requests.push({ method, path: url.pathname, headers, cache: init?.cache });
  await holds[url.pathname];
  const route = routes[`${method} ${url.pathname}`];
  return route ? route(headers) : Response.json({ error: { code: "not_found", message: "no route" } }, { status: 404 });
};

async function startHub(options: { snapshot?: Snapshot; signedIn?: boolean } = {}) {
  const session = memoryArea(options.snapshot ? { [SNAPSHOT_KEY]: options.snapshot } : {});
  const local = memoryArea(options.signedIn === false ? {} : { [AUTH_KEY]: { accessToken: "a1", refreshToken: "r1", user: ALICE } });
  const broadcasts: HubMessage[] = [];
  const badges: number[] = [];
  const hub = await Hub.start({ ...hubDepsFor(session, local), broadcast: (message) => broadcasts.push(message), setBadge: (count) => badges.push(count) });
  hubs.push(hub);
  return { hub, session, local, broadcasts, badges };
}

/** What a (re)started worker gets: the same storage areas, fresh timers and socket class. */
function hubDepsFor(session: ReturnType<typeof memoryArea>, local: ReturnType<typeof memoryArea>): Parameters<typeof Hub.start>[0] {
  return {
    world: {
      WebSocket: WebSocket as unknown as SocketConstructor,
      timers: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
      random: () => 0,
      isOnline: () => true,
      fetch: fakeFetch,
      now: Date.now,
    },
    snapshotArea: session,
    tokens: storedTokens(local),
    settings: { serverUrl, keepaliveMs: 20_000, profileFreshMs: 300_000, backoffBaseMs: 20 },
    broadcast: () => undefined,
    setBadge: () => undefined,
  };
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What a worker that was open at (epoch, seq) left in storage. */
const openAt = (epoch: string, seq: number): Snapshot => ({
  ...emptySnapshot(),
  state: ConnectionState.open,
  user: ALICE,
  profile: PROFILE,
  profileEtag: '"v1"',
  profileCheckedAt: Date.now(),
  epoch,
  seq,
});
const stored = (session: ReturnType<typeof memoryArea>) => session.data.get(SNAPSHOT_KEY) as Snapshot;
const count = (method: string, path: string) => requests.filter((r) => r.method === method && r.path === path).length;
const message = (id: number, from = 2, to = 1): ChatMessage => ({
  id,
  from,
  to,
  body: `m${id}`,
  clientMsgId: null,
  createdAt: "2026-01-01T00:00:00Z",
  readAt: null,
});
const event = (seq: number, body: unknown) => JSON.stringify({ type: ServerFrameType.event, epoch: "e1", seq, event: body });

describe("service worker hub", () => {
  it("first connect: takes the welcome position and fetches unread, profile and conversations once", async () => {
    const { hub, session, badges } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open && hub.snapshot.profile !== null && hub.snapshot.conversations.length > 0);
    expect(hub.snapshot.unread).toBe(4);
    expect(badges.at(-1)).toBe(4);
    expect(hub.snapshot.conversations.map((c) => c.peerId)).toEqual([2]);
    expect(stored(session)).toMatchObject({ epoch: "e1", seq: 10, profileEtag: '"v1"', state: ConnectionState.open });
    expect(count("GET", RestPath.profileMe)).toBe(1);
    expect(received.filter((f) => f.type === ClientFrameType.resume)).toHaveLength(0);
  });

  it("a restarted worker resumes from the stored position and refetches only when not recovered", async () => {
    // A server that does not take the upgrade's entry: the hub sends the `resume` frame.
    const { hub } = await startHub({ snapshot: openAt("e1", 7) });
    await until(() => received.some((f) => f.type === ClientFrameType.resume));
    expect(offered[0]).toContain("resume.e1.7");
    expect(received.find((f) => f.type === ClientFrameType.resume)).toEqual({ type: ClientFrameType.resume, epoch: "e1", seq: 7 });
    sockets[0]!.send(JSON.stringify({ type: ServerFrameType.resumed, recovered: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(count("GET", RestPath.unreadCount)).toBe(0);

    sockets[0]!.send(JSON.stringify({ type: ServerFrameType.resumed, recovered: false }));
    await until(() => count("GET", RestPath.unreadCount) === 1 && count("GET", RestPath.profileMe) === 1);
    // The profile refetch is conditional: the stored ETag goes out as If-None-Match and 304 keeps the cache.
    expect(requests.find((r) => r.path === RestPath.profileMe)?.headers["if-none-match"]).toBe('"v1"');
    await until(() => hub.snapshot.seq === 10);
    expect(hub.snapshot.profile).toEqual(PROFILE);
  });

  it("the upgrade offers the stored position; a server that takes it replays with no resume frame", async () => {
    takesUpgradeResume = true;
    const { hub } = await startHub({ snapshot: openAt("e1", 7) });
    await until(() => hub.snapshot.state === ConnectionState.open);
    expect(offered[0]).toEqual(["switchboard.v1", "bearer.a1", "resume.e1.7"]);
    sockets[0]!.send(event(8, { kind: EventKind.unread, count: 2 }));
    sockets[0]!.send(JSON.stringify({ type: ServerFrameType.resumed, recovered: true, epoch: "e1", seq: 8 }));
    await until(() => hub.snapshot.seq === 8 && hub.snapshot.unread === 2);
    expect(received.filter((f) => f.type === ClientFrameType.resume)).toHaveLength(0);
    expect(count("GET", RestPath.unreadCount)).toBe(0);
  });

  it("with no position of its own, the upgrade offers `resume..0`; resumed {recovered:false} takes its position and refetches once", async () => {
    takesUpgradeResume = true;
    const { hub } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    expect(offered[0]).toEqual(["switchboard.v1", "bearer.a1", "resume..0"]);
    sockets[0]!.send(JSON.stringify({ type: ServerFrameType.resumed, recovered: false, epoch: "e1", seq: 10 }));
    await until(() => hub.snapshot.profile !== null && hub.snapshot.unread === 4);
    expect(hub.snapshot).toMatchObject({ epoch: "e1", seq: 10 });
    expect(count("GET", RestPath.unreadCount)).toBe(1);
    expect(received.filter((f) => f.type === ClientFrameType.resume)).toHaveLength(0);
  });

  it("a parked state survives a worker restart: replaced never reconnects by itself", async () => {
    const { hub } = await startHub({ snapshot: { ...emptySnapshot(), state: ConnectionState.replaced, user: ALICE } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sockets).toHaveLength(0);
    expect(hub.snapshot.state).toBe(ConnectionState.replaced);
    await hub.handleRequest({ kind: TabRequestKind.useHere, requestId: "r", params: {} }, () => undefined);
    await until(() => hub.snapshot.state === ConnectionState.open);
  });

  it("events: message and unread fan out (badge too); a replayed seq is ignored; a confirming unread is not re-broadcast", async () => {
    const { hub, broadcasts, badges } = await startHub();
    await until(() => hub.snapshot.conversations.length > 0 && hub.snapshot.unread === 4);
    const unreadBroadcasts = () => broadcasts.filter((m) => m.kind === HubMessageKind.unread).length;
    const before = unreadBroadcasts();
    sockets[0]!.send(event(11, { kind: EventKind.message, message: message(100) }));
    sockets[0]!.send(event(12, { kind: EventKind.unread, count: 5 }));
    sockets[0]!.send(event(11, { kind: EventKind.message, message: message(100) })); // duplicate
    await until(() => hub.snapshot.unread === 5);
    expect(broadcasts.filter((m) => m.kind === HubMessageKind.message)).toHaveLength(1);
    expect(hub.snapshot.conversations[0]).toMatchObject({ peerId: 2, unread: 1, lastMessage: { id: 100 } });
    expect(badges.at(-1)).toBe(5);
    // The message already counted itself (4 → 5); the server's `unread: 5` only confirmed it.
    expect(unreadBroadcasts()).toBe(before);
  });

  it("a change is stored at once with its position; a position alone (a confirming unread) is stored within a second", async () => {
    const { hub, session } = await startHub();
    await until(() => hub.snapshot.conversations.length > 0 && hub.snapshot.unread === 4 && stored(session)?.seq === 10);
    sockets[0]!.send(event(11, { kind: EventKind.message, message: message(100) }));
    await until(() => stored(session).seq === 11, 200);
    expect(stored(session).recent.map((m) => m.id)).toEqual([100]);
    sockets[0]!.send(event(12, { kind: EventKind.unread, count: 5 })); // confirms: nothing changes but the position
    await until(() => hub.snapshot.seq === 12);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stored(session).seq).toBe(11); // replaying seq 12 after a restart would change nothing
    await until(() => stored(session).seq === 12, 1500);
  });

  it("a profile event with a new ETag refetches at once, bypassing the HTTP cache; the same ETag does not", async () => {
    const { hub } = await startHub();
    await until(() => hub.snapshot.profileEtag === '"v1"');
    sockets[0]!.send(event(11, { kind: EventKind.profile, etag: '"v1"' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(count("GET", RestPath.profileMe)).toBe(1);
    routes[`GET ${RestPath.profileMe}`] = () => Response.json({ ...PROFILE, role: "admin" }, { headers: { etag: '"v2"' } });
    sockets[0]!.send(event(12, { kind: EventKind.profile, etag: '"v2"' }));
    await until(() => hub.snapshot.profile?.role === "admin");
    expect(count("GET", RestPath.profileMe)).toBe(2);
    expect(requests.filter((r) => r.path === RestPath.profileMe).at(-1)?.cache).toBe("no-store");
  });

  it("twenty tabs opening while the profile is stale make one conditional GET", async () => {
    const stale: Snapshot = { ...emptySnapshot(), state: ConnectionState.replaced, user: ALICE, profile: PROFILE, profileEtag: '"v1"', profileCheckedAt: 1 };
    const { hub } = await startHub({ snapshot: stale });
    await Promise.all(Array.from({ length: 20 }, (_, i) => hub.handleRequest({ kind: TabRequestKind.hello, requestId: `h${i}`, params: {} }, () => undefined)));
    await until(() => hub.snapshot.profileCheckedAt > 1);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => hub.handleRequest({ kind: TabRequestKind.hello, requestId: `again${i}`, params: {} }, () => undefined)),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(count("GET", RestPath.profileMe)).toBe(1);
  });

  it("tabs loading one conversation at once share one GET; a load after it settled makes a new one", async () => {
    routes[`GET ${RestPath.messages}`] = () => Response.json({ messages: [message(1)] });
    let answer!: () => void;
    holds[RestPath.messages] = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const { hub } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    const load = async (requestId: string, peerId: number) => {
      const replies: HubMessage[] = [];
      await hub.handleRequest({ kind: TabRequestKind.loadMessages, requestId, params: { peerId } }, (m) => replies.push(m));
      return replies;
    };
    const together = Promise.all(Array.from({ length: 6 }, (_, i) => load(`l${i}`, 2)));
    const otherPeer = load("other", 3);
    await until(() => count("GET", RestPath.messages) === 2);
    answer();
    for (const replies of await together) expect(replies).toEqual([expect.objectContaining({ kind: HubMessageKind.reply, ok: true, result: [message(1)] })]);
    await otherPeer;
    expect(requests.filter((r) => r.path === RestPath.messages)).toHaveLength(2);
    await load("later", 2);
    expect(count("GET", RestPath.messages)).toBe(3);
  });

  it("send: stored in the outbox before the attempt, sent over the socket, removed on the ack", async () => {
    const { hub, session } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    let storedAtAttempt: unknown;
    sockets[0]!.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { type: string; clientMsgId: string };
      if (frame.type !== ClientFrameType.send) return;
      storedAtAttempt = structuredClone(session.data.get(OUTBOX_KEY));
      sockets[0]!.send(JSON.stringify({ type: ServerFrameType.ack, clientMsgId: frame.clientMsgId, messageId: 555 }));
    });
    const replies: HubMessage[] = [];
    await hub.handleRequest({ kind: TabRequestKind.send, requestId: "s1", params: { to: 2, body: "hi", clientMsgId: "c-1" } }, (m) => replies.push(m));
    expect(replies[0]).toMatchObject({ kind: HubMessageKind.reply, ok: true, result: { to: 2, body: "hi", clientMsgId: "c-1", state: OutboxState.pending } });
    await until(() => hub.snapshot.recent.some((m) => m.id === 555) && hub.snapshot.outbox.length === 0);
    expect(storedAtAttempt).toMatchObject({ userId: ALICE.id, entries: [{ clientMsgId: "c-1", body: "hi" }] });
    await until(() => !session.data.has(OUTBOX_KEY));
    expect(count("POST", RestPath.messages)).toBe(0);
  });

  it("send: a message queued by a hub that stopped before its ack is sent by the next hub, once", async () => {
    const { hub, session, local } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    // The first server swallows the send (no ack): the worker is stopped before the ack.
    await hub.handleRequest({ kind: TabRequestKind.send, requestId: "s1", params: { to: 2, body: "kept", clientMsgId: "c-kept" } }, () => undefined);
    hub.abandon();
    const posted: string[] = [];
    routes[`POST ${RestPath.messages}`] = () => {
      posted.push("c-kept");
      return Response.json({ message: { ...message(777, 1, 2), body: "kept", clientMsgId: "c-kept" } }, { status: 201 });
    };
    const restarted = await Hub.start({ ...hubDepsFor(session, local) });
    hubs.push(restarted);
    expect(restarted.snapshot.outbox.map((entry) => entry.clientMsgId)).toEqual(["c-kept"]);
    sockets.at(-1)?.on("message", () => undefined);
    await until(() => restarted.snapshot.outbox.length === 0, 8000);
    expect(restarted.snapshot.recent.filter((m) => m.clientMsgId === "c-kept")).toHaveLength(1);
  }, 15_000);

  it("REST token_expired → one refresh (rotation) → retried; a refused refresh parks in auth-required", async () => {
    const { hub, local } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    let refreshed = false;
    routes[`POST ${RestPath.refresh}`] = () => {
      refreshed = true;
      return Response.json({ accessToken: "a2", refreshToken: "r2", expiresIn: 900, user: ALICE });
    };
    routes[`POST ${RestPath.messagesRead}`] = (headers) =>
      headers.authorization === "Bearer a2"
        ? Response.json({ unread_count: 0 })
        : Response.json({ error: { code: RestErrorCode.tokenExpired, message: "expired" } }, { status: 401 });
    const replies: HubMessage[] = [];
    await Promise.all(
      [1, 2].map(() => hub.handleRequest({ kind: TabRequestKind.markRead, requestId: "r", params: { peerId: 2, upToMessageId: 5 } }, (m) => replies.push(m))),
    );
    expect(replies.every((m) => m.kind === HubMessageKind.reply && m.ok)).toBe(true);
    expect(refreshed).toBe(true);
    expect(count("POST", RestPath.refresh)).toBe(1);
    expect(local.data.get(AUTH_KEY)).toMatchObject({ accessToken: "a2", refreshToken: "r2" });

    routes[`POST ${RestPath.refresh}`] = () => Response.json({ error: { code: RestErrorCode.refreshReused, message: "reused" } }, { status: 401 });
    routes[`POST ${RestPath.messagesRead}`] = () => Response.json({ error: { code: RestErrorCode.tokenExpired, message: "expired" } }, { status: 401 });
    await hub.handleRequest({ kind: TabRequestKind.markRead, requestId: "r", params: { peerId: 2, upToMessageId: 5 } }, () => undefined);
    expect(hub.snapshot.state).toBe(ConnectionState.authRequired);
    expect(local.data.has(AUTH_KEY)).toBe(false);
  });

  it("the socket's Token expired → refresh → reconnect with the new token", async () => {
    routes[`POST ${RestPath.refresh}`] = () => Response.json({ accessToken: "a2", refreshToken: "r2", expiresIn: 900, user: ALICE });
    const { hub } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    sockets[0]!.close(ServerClose.tokenExpired.code, ServerClose.tokenExpired.reason);
    await until(() => sockets.length === 2 && hub.snapshot.state === ConnectionState.open);
    expect(count("POST", RestPath.refresh)).toBe(1);
  });

  it("the socket's Session ended (logged out elsewhere) → tokens forgotten, snapshot cleared, signed-out; no logout call, and a restarted worker stays signed out", async () => {
    const { hub, local, session } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open && hub.snapshot.profile !== null);
    sockets[0]!.close(ServerClose.sessionEnded.code, ServerClose.sessionEnded.reason);
    await until(() => hub.snapshot.state === ConnectionState.signedOut && !local.data.has(AUTH_KEY));
    expect(hub.snapshot.user).toBeNull();
    expect(hub.snapshot.profile).toBeNull();
    expect(count("POST", RestPath.logout)).toBe(0);
    expect(count("POST", RestPath.refresh)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sockets).toHaveLength(1);

    const restarted = await Hub.start({ ...hubDepsFor(session, local) });
    hubs.push(restarted);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(restarted.snapshot.state).toBe(ConnectionState.signedOut);
    expect(sockets).toHaveLength(1);
  });

  it("a REST answer 401 session_ended → tokens forgotten and signed-out", async () => {
    const { hub, local } = await startHub();
    await until(() => hub.snapshot.state === ConnectionState.open);
    routes[`POST ${RestPath.messagesRead}`] = () => Response.json({ error: { code: RestErrorCode.sessionEnded, message: "ended" } }, { status: 401 });
    const replies: HubMessage[] = [];
    await hub.handleRequest({ kind: TabRequestKind.markRead, requestId: "r", params: { peerId: 2, upToMessageId: 5 } }, (m) => replies.push(m));
    expect(replies.at(-1)).toMatchObject({ kind: HubMessageKind.reply, ok: false });
    expect(hub.snapshot.state).toBe(ConnectionState.signedOut);
    expect(local.data.has(AUTH_KEY)).toBe(false);
    expect(count("POST", RestPath.refresh)).toBe(0);
  });

  it("signed out: no socket; hello answers with the snapshot", async () => {
    const { hub } = await startHub({ signedIn: false });
    const replies: HubMessage[] = [];
    await hub.handleRequest({ kind: TabRequestKind.hello, requestId: "h", params: {} }, (m) => replies.push(m));
    expect(replies[0]).toMatchObject({ kind: HubMessageKind.snapshot, snapshot: { state: ConnectionState.signedOut } });
    expect(sockets).toHaveLength(0);
  });
});
