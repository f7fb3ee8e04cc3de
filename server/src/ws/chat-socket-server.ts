import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import {
  ClientFrameType,
  FrameErrorCode,
  ServerClose,
  ServerFrameType,
  parseClientFrame,
  type ChatEvent,
  type ReadFrame,
  type SendFrame,
  type ServerFrame,
} from "../../../shared/protocol/index.js";
import type { TokenService } from "../auth/tokens.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import type { EventBus, EventLog, OwnerRegistry, StoredEvent } from "../realtime/ports.js";
import { planDrain } from "./drain-plan.js";
import { startHeartbeat, type Heartbeat } from "./heartbeat.js";
import { ReconnectTracker } from "./reconnect-tracker.js";
import { ReplacementLoopTracker } from "./replacement-loop-tracker.js";
import { Session } from "./session.js";
import { authenticateUpgrade, offeredProtocols, originAllowed, parseChatPath, selectProtocol } from "./upgrade-auth.js";

export interface FrameHandlers {
  /**
   * Called as the frame arrives, in arrival order: starts storing the message at once and
   * resolves, once it is stored, with the step that publishes its events and gives the reply.
   */
  send(userId: number, frame: SendFrame): Promise<() => Promise<ServerFrame>>;
  read(userId: number, frame: ReadFrame): Promise<ServerFrame | null>;
}

export interface ChatSocketServerOptions {
  tokens: TokenService;
  owners: OwnerRegistry;
  eventLog: EventLog;
  bus: EventBus;
  /** Append + deliver in one step (the Redis realtime layer does both in one script); default: `eventLog.append` then `bus.publish`. */
  publish?: (userId: number, event: ChatEvent) => Promise<StoredEvent>;
  handlers: FrameHandlers;
  logger: Logger;
  metrics: Metrics;
  instanceId: string;
  allowedOrigins: readonly string[];
  heartbeatIntervalMs: number;
  heartbeatMaxMissed: number;
  maxPayloadBytes: number;
  resumeMaxEvents: number;
  /** How long live events wait for the client's `resume` after `welcome`. @default 1000 */
  resumeHoldMs?: number;
  /** Consecutive bad frames before the socket is closed with 1008 "Protocol error". @default 20 */
  maxConsecutiveBadFrames?: number;
  /** A connect this soon after the user's previous socket closed counts as a reconnect. @default 30000 */
  reconnectWindowMs?: number;
  /** More than `threshold` replacements of one user within `windowMs` is a reconnect loop. @default { threshold: 10, windowMs: 300000 } */
  replacementLoop?: { threshold: number; windowMs: number };
  /** Sockets closed per second on shutdown (0: all at once). @default 400 */
  drainRate?: number;
}

interface Connection {
  session: Session;
  heartbeat: Heartbeat | null;
}

/**
 * The chat WebSocket endpoint: `/ws/chat/{userId}`, token in the subprotocol list, Origin
 * allow-list at the upgrade, atomic replacement, protocol heartbeat, one message handler.
 */
export class ChatSocketServer {
  readonly wss: WebSocketServer;
  /** The user's current session on this instance. */
  readonly #current = new Map<number, Session>();
  /** Every open socket on this instance (current or about to be closed). */
  readonly #connections = new Map<WebSocket, Connection>();
  readonly #unsubscribe: Array<() => void> = [];
  #accepting = true;
  readonly #reconnects: ReconnectTracker;
  readonly #replacementLoops: ReplacementLoopTracker;

  constructor(private readonly options: ChatSocketServerOptions) {
    this.#reconnects = new ReconnectTracker(options.reconnectWindowMs ?? 30_000);
    const loop = options.replacementLoop ?? { threshold: 10, windowMs: 300_000 };
    this.#replacementLoops = new ReplacementLoopTracker(loop.threshold, loop.windowMs);
    options.metrics.setReplacementLoopSource(() => this.#replacementLoops.usersInLoop());
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      // permessage-deflate keeps a zlib context per socket (≈243 KB each, DESIGN §9): off.
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => selectProtocol(protocols),
    });
    this.#unsubscribe.push(
      options.bus.subscribe((userId, stored) => this.#current.get(userId)?.deliver(stored)),
      options.owners.onReplaced((userId, connId) => {
        const session = this.#current.get(userId);
        if (session && session.connId === connId) this.#closeReplaced(session);
        else for (const { session: s } of this.#connections.values()) if (s.userId === userId && s.connId === connId) this.#closeReplaced(s);
      }),
    );
  }

  /** Attach to an HTTP server's `upgrade` event. Returns the function that detaches it. */
  attach(server: HttpServer): () => void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#handleUpgrade(req, socket, head);
    server.on("upgrade", onUpgrade);
    return () => server.off("upgrade", onUpgrade);
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Registered current sessions (for tests and leak checks). */
  get currentCount(): number {
    return this.#current.size;
  }

  /** Append an event to the user's history and deliver it wherever their socket lives. */
  async publish(userId: number, event: ChatEvent): Promise<void> {
    const { options } = this;
    if (options.publish) {
      await options.publish(userId, event);
      options.metrics.eventsPublished.inc({ kind: event.kind });
      return;
    }
    const stored = await options.eventLog.append(userId, event);
    options.metrics.eventsPublished.inc({ kind: event.kind });
    await options.bus.publish(userId, stored);
  }

  async #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const userId = parseChatPath(req.url);
    if (userId === null) return rejectUpgrade(socket, 404, "Not Found");
    if (!originAllowed(req.headers.origin, this.options.allowedOrigins)) {
      this.options.logger.warn({ origin: req.headers.origin }, "websocket upgrade refused: origin not allowed");
      return rejectUpgrade(socket, 403, "Forbidden");
    }
    if (!this.#accepting) return rejectUpgrade(socket, 503, "Service Unavailable");
    let outcome: Awaited<ReturnType<typeof authenticateUpgrade>>;
    try {
      outcome = await authenticateUpgrade(this.options.tokens, userId, offeredProtocols(req));
    } catch (error) {
      this.options.logger.error({ err: error }, "websocket authentication failed unexpectedly");
      return rejectUpgrade(socket, 500, "Internal Server Error");
    }
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (!outcome.ok) {
        // Accept, then close with 1008 + the exact reason, so the client can read why.
        ws.on("error", () => {});
        this.options.metrics.wsCloses.inc({ code: String(outcome.close.code) });
        ws.close(outcome.close.code, outcome.close.reason);
        return;
      }
      void this.#accept(ws, outcome.userId);
    });
  }

  async #accept(ws: WebSocket, userId: number): Promise<void> {
    const { options } = this;
    const session = new Session(ws, { userId, connId: randomUUID() }, {
      eventLog: options.eventLog,
      logger: options.logger,
      resumeMaxEvents: options.resumeMaxEvents,
      holdMs: options.resumeHoldMs ?? 1000,
      observeDeliveryLatency: (seconds) => options.metrics.deliveryLatency.observe(seconds),
    });
    const connection: Connection = { session, heartbeat: null };
    this.#connections.set(ws, connection);
    options.metrics.wsConnections.set(this.#connections.size);
    options.metrics.wsConnects.inc();
    if (this.#reconnects.connected(userId)) options.metrics.wsReconnects.inc();

    // Frames that arrive before the session is current (e.g. an immediate `resume`) wait on
    // the session's chain, which `start` below runs first.
    let badFrames = 0;
    ws.on("message", (data, isBinary) => {
      const ok = this.#onMessage(session, data, isBinary);
      badFrames = ok ? 0 : badFrames + 1;
      if (badFrames >= (options.maxConsecutiveBadFrames ?? 20)) {
        ws.close(ServerClose.protocolError.code, ServerClose.protocolError.reason);
      }
    });
    ws.on("pong", () => connection.heartbeat?.pong());
    ws.on("error", (error) => options.logger.debug({ err: error.message, userId }, "socket error"));
    ws.once("close", (code) => void this.#onClose(ws, connection, code));

    const started = session.enqueue(async () => {
      const claim = await options.owners.claim({ userId, connId: session.connId, instanceId: options.instanceId });
      if (session.closed) {
        await options.owners.release(userId, session.connId);
        return;
      }
      const previous = this.#current.get(userId);
      if (previous && previous.generation > claim.generation) {
        // A newer connection already took over while our claim was in flight.
        this.#closeReplaced(session);
        return;
      }
      session.generation = claim.generation;
      this.#current.set(userId, session);
      if (previous && previous !== session) this.#closeReplaced(previous);
      const head = await options.eventLog.head(userId);
      session.start({ generation: claim.generation, head, heartbeatIntervalMs: options.heartbeatIntervalMs });
      connection.heartbeat = startHeartbeat({
        intervalMs: options.heartbeatIntervalMs,
        maxMissed: options.heartbeatMaxMissed,
        ping: () => ws.ping(),
        onTimeout: () => {
          options.metrics.wsHeartbeatTimeouts.inc();
          closeThenTerminate(ws, ServerClose.heartbeatTimeout.code, ServerClose.heartbeatTimeout.reason);
        },
      });
    });
    await started;
  }

  /** Returns false for a bad frame. Never throws. */
  #onMessage(session: Session, data: RawData, isBinary: boolean): boolean {
    const { metrics } = this.options;
    const fail = (code: string, message: string) => {
      metrics.wsBadFrames.inc({ code });
      session.send({ type: ServerFrameType.error, code, message });
      return false;
    };
    if (isBinary) return fail(FrameErrorCode.binaryNotSupported, "Binary frames are not supported; send JSON text frames");
    const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return fail(parsed.code, parsed.message);
    const frame = parsed.frame;
    switch (frame.type) {
      case ClientFrameType.ping:
        // Application keepalive (keeps an MV3 service worker alive): answer at once, out of band.
        session.send({ type: ServerFrameType.pong });
        break;
      case ClientFrameType.resume:
        void session.resume({ epoch: frame.epoch, seq: frame.seq });
        break;
      // Pipelined sends: storing starts now (the writer keeps each sender's order and batches
      // concurrent sends); each send's events are issued once the previous send's were, and acks go
      // out in the order sent. `commandsDrained()` covers all of it.
      case ClientFrameType.send: {
        const stored = this.options.handlers.send(session.userId, frame);
        stored.catch(() => undefined); // reported in order below
        session.pipeline(
          () => stored.then((publish) => ({ done: publish() })),
          (outcome) => {
            if (outcome.status === "fulfilled") return session.send(outcome.value);
            this.options.logger.error({ err: outcome.reason, userId: session.userId }, "send failed");
            session.send({ type: ServerFrameType.error, code: FrameErrorCode.internal, message: "Message could not be sent; retry with the same clientMsgId", clientMsgId: frame.clientMsgId });
          },
        );
        break;
      }
      case ClientFrameType.read:
        session.command(() =>
          this.options.handlers.read(session.userId, frame).then(
            (reply) => void (reply && session.send(reply)),
            (error: unknown) => {
              this.options.logger.error({ err: error, userId: session.userId }, "read failed");
              session.send({ type: ServerFrameType.error, code: FrameErrorCode.internal, message: "Could not mark messages read; retry" });
            },
          ),
        );
        break;
    }
    return true;
  }

  #closeReplaced(session: Session): void {
    if (session.closed) return;
    this.options.metrics.wsReplacements.inc();
    if (this.#replacementLoops.replaced(session.userId)) {
      this.options.logger.warn({ userId: session.userId }, "user in a reconnect loop: replaced again and again (see docs/runbook.md#switchboardreconnectloop)");
    }
    // Asynchronous: the close handshake of the old socket never blocks the new one.
    closeThenTerminate(session.ws, ServerClose.replaced.code, ServerClose.replaced.reason);
  }

  async #onClose(ws: WebSocket, connection: Connection, code: number): Promise<void> {
    const { session, heartbeat } = connection;
    heartbeat?.stop();
    session.dispose();
    this.#connections.delete(ws);
    const { metrics, owners } = this.options;
    metrics.wsConnections.set(this.#connections.size);
    metrics.wsCloses.inc({ code: String(code) });
    this.#reconnects.closed(session.userId);
    // Only remove the registry entries if they are still this socket's (STYLE point 5).
    if (this.#current.get(session.userId) === session) this.#current.delete(session.userId);
    try {
      await owners.release(session.userId, session.connId);
    } catch (error) {
      this.options.logger.warn({ err: error, userId: session.userId }, "owner release failed");
    }
  }

  /**
   * Stop accepting; close every socket with 1012 "Service restart" in slices (`drainRate` per
   * second, so the instances taking them over see a bounded accept rate), within `timeoutMs`
   * including the close handshakes; wait until they are gone. Sockets not yet closed keep
   * receiving their events meanwhile; whatever a client misses after its close, `resume` replays.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#accepting = false;
    const startedAt = Date.now();
    const deadline = new Promise((r) => setTimeout(r, timeoutMs).unref());
    const graceMs = Math.min(2000, timeoutMs);
    const plan = planDrain(this.#connections.size, { socketsPerSecond: this.options.drainRate ?? 400, maxWindowMs: timeoutMs - graceMs });
    if (plan.windowMs > 0) this.options.logger.info({ sockets: this.#connections.size, windowMs: plan.windowMs }, "draining sockets in slices");
    const closed: Array<Promise<void>> = [];
    // Every session of the drain, also those whose socket closes by itself before its slice.
    const sessions = new Set([...this.#connections.values()].map((connection) => connection.session));
    const queue = [...this.#connections.keys()];
    for (const [index, size] of plan.slices.entries()) {
      if (index > 0) await new Promise((r) => setTimeout(r, Math.max(0, startedAt + index * plan.sliceMs - Date.now())));
      for (const ws of queue.splice(0, size)) {
        const connection = this.#connections.get(ws);
        if (!connection) continue; // closed by itself meanwhile
        closed.push(new Promise((resolve) => ws.once("close", () => resolve())));
        connection.session.closed = true;
        closeThenTerminate(ws, ServerClose.serviceRestart.code, ServerClose.serviceRestart.reason, graceMs);
      }
    }
    await Promise.race([Promise.all(closed), deadline]);
    for (const [ws, connection] of this.#connections) {
      sessions.add(connection.session); // accepted while the drain ran (its upgrade was already in flight)
      ws.terminate();
    }
    // In-flight sends finish (stored and published) before the caller closes the database; a
    // client that missed the ack retries with the same clientMsgId and gets the same message.
    // Collected now that no socket can receive another frame, so a send that arrived during the
    // drain is waited for too.
    await Promise.race([Promise.all([...sessions].map((session) => session.commandsDrained())), deadline]);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.wss.close();
  }
}

/** Start the close handshake; if the peer does not answer in `graceMs`, drop the TCP link. */
function closeThenTerminate(ws: WebSocket, code: number, reason: string, graceMs = 2000): void {
  if (ws.readyState === ws.CLOSED) return;
  if (ws.readyState !== ws.CLOSING) ws.close(code, reason);
  const timer = setTimeout(() => ws.terminate(), graceMs);
  timer.unref?.();
  ws.once("close", () => clearTimeout(timer));
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}
