import WebSocket from "ws";
import {
  BEARER_PROTOCOL_PREFIX,
  ClientFrameType,
  ServerFrameType,
  SUBPROTOCOL,
  WS_PATH_PREFIX,
  type LoginResponse,
  type ServerFrame,
} from "../../shared/protocol/index.js";

export async function login(baseUrl: string, username: string, password = "demo"): Promise<LoginResponse> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as LoginResponse;
}

export async function api<T = unknown>(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface ChatClient {
  ws: WebSocket;
  frames: ServerFrame[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first frame (already received or future) matching `predicate`. */
  next<T extends ServerFrame = ServerFrame>(predicate: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<T>;
  send(frame: unknown): void;
  close(): Promise<void>;
}

export interface ConnectOptions {
  token?: string | null;
  origin?: string;
  /** false → the client does not answer protocol pings (a dead peer). @default true */
  autoPong?: boolean;
  protocols?: string[];
}

/** A real `ws` client on `/ws/chat/{userId}` with the token in the subprotocol list. */
export function connectChat(wsBaseUrl: string, userId: number | string, options: ConnectOptions = {}): ChatClient {
  const protocols = options.protocols ?? [SUBPROTOCOL, ...(options.token ? [BEARER_PROTOCOL_PREFIX + options.token] : [])];
  const ws = new WebSocket(`${wsBaseUrl}${WS_PATH_PREFIX}${userId}`, protocols, {
    autoPong: options.autoPong ?? true,
    ...(options.origin ? { origin: options.origin } : {}),
  });
  const frames: ServerFrame[] = [];
  const waiters = new Set<{ predicate: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }>();
  ws.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    frames.push(frame);
    for (const waiter of waiters) {
      if (waiter.predicate(frame)) {
        waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  });
  ws.on("error", () => {});
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
    ws.once("close", () => reject(new Error("closed before open")));
  });
  opened.catch(() => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  return {
    ws,
    frames,
    opened,
    closed,
    next<T extends ServerFrame>(predicate: (frame: ServerFrame) => boolean, timeoutMs = 5000) {
      const existing = frames.find(predicate);
      if (existing) return Promise.resolve(existing as T);
      return new Promise<T>((resolve, reject) => {
        const waiter = { predicate, resolve: resolve as (f: ServerFrame) => void };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter)) reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 500)}`));
        }, timeoutMs).unref();
      });
    },
    send(frame: unknown) {
      const text = typeof frame === "string" ? frame : JSON.stringify(frame);
      // Like a browser client sending in its `open` handler: queue until the socket is open.
      if (ws.readyState === ws.CONNECTING) ws.once("open", () => ws.send(text));
      else ws.send(text);
    },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      ws.close();
      await closed;
    },
  };
}

/** Connect as `session`'s user, send `resume` with no history and wait for `resumed`: live events flow from then on. */
export async function connectLive(wsBaseUrl: string, session: LoginResponse): Promise<ChatClient> {
  const client = connectChat(wsBaseUrl, session.user.id, { token: session.accessToken });
  client.send({ type: ClientFrameType.resume, epoch: "", seq: 0 });
  await client.next((f) => f.type === ServerFrameType.resumed);
  return client;
}
