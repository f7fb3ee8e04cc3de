import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import {
  ClientFrameType,
  FrameErrorCode,
  RATE_LIMITED_RECONNECT_MIN_MS,
  RETRY_AFTER_HEADER,
  ServerClose,
  ServerFrameType,
  parseClientFrame,
  resumeFromProtocols,
  type ChatEvent,
  type ClientFrame,
  type ReadFrame,
  type SendFrame,
  type ServerFrame,
} from "../../../shared/protocol/index.js";
import type { TokenService } from "../auth/tokens.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import type { Realtime } from "../realtime/realtime.js";
import { BudgetKind, ReconnectCooldown, RefusalCounter, type UserBudgets } from "../realtime/user-budgets.js";
import { planDrain } from "./drain-plan.js";
import { ReconnectTracker } from "./reconnect-tracker.js";
import { ReplacementLoopTracker } from "./replacement-loop-tracker.js";
import { holdWrites } from "../net/hold-writes.js";
import { Session } from "./session.js";
import { authenticateUpgrade, type AuthOutcome, offeredProtocols, originAllowed, parseChatPath, selectProtocol } from "./upgrade-auth.js";
import type { EventCursor } from "../realtime/ports.js";

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
  /** Who is current (the owner registry decides), the users' histories and live delivery. */
  realtime: Realtime;
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
  /** Per-user budgets of sends, reads, resumes and pings (shared with the REST send). Unset: unlimited. */
  budgets?: UserBudgets;
  /** Refused frames a socket may send within the burst window before `4029 Rate limited`. @default 20 */
  maxRefusedFrames?: number;
  /** Unsent bytes a socket may hold before `4002 Slow consumer`. @default Infinity */
  maxBufferedBytes?: number;
}

/** How long a socket closed for flooding (and no longer read) gets to see the close frame before the TCP link is dropped. */
const RATE_LIMITED_CLOSE_GRACE_MS = 1000;

/** The budget each client frame type spends. */
const budgetOf = {
  [ClientFrameType.ping]: BudgetKind.ping,
  [ClientFrameType.resume]: BudgetKind.resume,
  [ClientFrameType.send]: BudgetKind.send,
  [ClientFrameType.read]: BudgetKind.read,
} as const satisfies Record<ClientFrameType, BudgetKind>;

/** Per socket: set once the server decided to close it for flooding; the rest of the flood is ignored. */
interface FloodState {
  closing: boolean;
}

/**
 * The chat WebSocket endpoint: `/ws/chat/{userId}`, token in the subprotocol list, Origin
 * allow-list at the upgrade, protocol heartbeat, one message handler. Which connection of a user
 * is current is decided by the owner registry alone (`realtime.owners`): this server claims for
 * each new socket and closes, on one path, whatever the registry reports as replaced.
 * See docs/architecture.md#a-connect.
 */
export class ChatSocketServer {
  readonly wss: WebSocketServer;
  /** Every open socket on this instance by connection id (current, or not yet or no longer). */
  readonly #sessions = new Map<string, Session>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly #refusals: RefusalCounter;
  readonly #cooldown = new ReconnectCooldown(RATE_LIMITED_RECONNECT_MIN_MS);
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
      // permessage-deflate keeps a zlib context per socket (≈243 KB each, measured with 10,000 sockets): off.
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => selectProtocol(protocols),
    });
    const { owners, bus } = options.realtime;
    this.#refusals = new RefusalCounter(options.maxRefusedFrames ?? 20);
    this.#unsubscribe.push(
      options.metrics.sampleBufferedBytes(() => {
        let total = 0;
        for (const session of this.#sessions.values()) total += session.ws.bufferedAmount;
        return total;
      }),
      bus.subscribe((userId, stored) => this.#currentSession(userId)?.deliver(stored)),
      owners.onReplaced((_userId, connId) => {
        const session = this.#sessions.get(connId);
        if (session) this.#closeReplaced(session);
      }),
    );
  }

  /** Attach to an HTTP server's `upgrade` event. Returns the function that detaches it. */
  attach(server: HttpServer): () => void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#handleUpgrade(req, socket, head);
    server.on("upgrade", onUpgrade);
    return () => server.off("upgrade", onUpgrade);
  }

  /** Open sockets on this instance. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Users whose current connection this instance serves (for tests and leak checks). */
  get currentCount(): number {
    return this.options.realtime.owners.localOwners;
  }

  /** Append an event to the user's history and deliver it wherever their socket lives. */
  async publish(userId: number, event: ChatEvent): Promise<void> {
    await this.options.realtime.publish(userId, event);
    this.options.metrics.eventsPublished.inc({ kind: event.kind });
  }

  /** The session of the user's current connection, when it lives here. */
  #currentSession(userId: number): Session | undefined {
    const connId = this.options.realtime.owners.localOwner(userId);
    return connId === undefined ? undefined : this.#sessions.get(connId);
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
    const cooldownMs = await this.#cooldown.remainingMs(userId);
    if (cooldownMs > 0) {
      this.options.metrics.rateLimited.inc({ kind: "connect", transport: "ws" });
      return rejectUpgrade(socket, 429, "Too Many Requests", { [RETRY_AFTER_HEADER]: String(Math.ceil(cooldownMs / 1000)) });
    }
    const protocols = offeredProtocols(req);
    let outcome: AuthOutcome;
    try {
      outcome = await authenticateUpgrade(this.options.tokens, userId, protocols);
    } catch (error) {
      this.options.logger.error({ err: error }, "websocket authentication failed unexpectedly");
      return rejectUpgrade(socket, 500, "Internal Server Error");
    }
    if (socket.destroyed) return;
    // The `101` response and the `welcome` (sent after the claim's Redis round trip) leave in one
    // write instead of a syscall each: released once the session started or the accept failed.
    const releaseWrites = holdWrites(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // The session may have ended while the token was being verified; from `#accept` on (it
      // registers the socket synchronously) `endSessions` finds it.
      const verdict: AuthOutcome =
        outcome.ok && this.options.tokens.sessions.isRevoked(outcome.sessionId) ? { ok: false, close: ServerClose.sessionEnded } : outcome;
      if (!verdict.ok) {
        // Accept, then close with 1008 + the exact reason, so the client can read why.
        ws.on("error", () => {});
        this.options.metrics.wsCloses.inc({ code: String(verdict.close.code) });
        releaseWrites();
        ws.close(verdict.close.code, verdict.close.reason);
        return;
      }
      void this.#accept(ws, verdict.userId, verdict.sessionId, resumeFromProtocols(protocols)).finally(releaseWrites);
    });
  }

  /** `upgradeResume`: the cursor of the upgrade's `resume.` entry, replayed right after `welcome` as if a `resume` frame had come. */
  async #accept(ws: WebSocket, userId: number, sessionId: string, upgradeResume: EventCursor | null): Promise<void> {
    const { options } = this;
    const { owners, eventLog } = options.realtime;
    const session = new Session(
      ws,
      { userId, connId: randomUUID(), sessionId },
      {
        eventLog,
        logger: options.logger,
        resumeMaxEvents: options.resumeMaxEvents,
        holdMs: options.resumeHoldMs ?? 1000,
        observeDeliveryLatency: (seconds) => options.metrics.deliveryLatency.observe(seconds),
        maxBufferedBytes: options.maxBufferedBytes ?? Infinity,
        onSlowConsumer: () => {
          options.metrics.wsBackpressureCloses.inc();
          options.logger.info({ userId, bufferedBytes: ws.bufferedAmount }, "closing a slow consumer");
          session.close(ServerClose.slowConsumer);
        },
      },
    );
    this.#sessions.set(session.connId, session);
    options.metrics.wsConnections.set(this.#sessions.size);
    options.metrics.wsConnects.inc();
    if (this.#reconnects.connected(userId)) options.metrics.wsReconnects.inc();

    // Frames that arrive before the session is current (e.g. an immediate `resume`) wait on
    // the session's chain, which the claim below runs first.
    let badFrames = 0;
    const flood: FloodState = { closing: false };
    // Budget decisions are asynchronous (rate-limiter-flexible); frames pass them one after
    // another on this chain so they are still handled in arrival order.
    let admission: Promise<void> = Promise.resolve();
    ws.on("message", (data, isBinary) => {
      if (flood.closing || session.closed) return;
      const frame = this.#parse(session, data, isBinary);
      badFrames = frame ? 0 : badFrames + 1;
      if (badFrames >= (options.maxConsecutiveBadFrames ?? 20)) session.close(ServerClose.protocolError);
      if (!frame) return;
      admission = admission
        .then(() => this.#admit(session, flood, frame))
        .catch((error: unknown) => {
          options.logger.warn({ err: error, userId }, "frame handling failed");
        });
    });
    ws.on("pong", () => session.pong());
    ws.on("error", (error) => options.logger.debug({ err: error.message, userId }, "socket error"));
    ws.once("close", (code) => void this.#onClose(session, code));

    await session.enqueue(async () => {
      // The registry makes this connection current and reports what it replaced (to `onReplaced`,
      // which closes it) — including this one, if a newer connect won meanwhile.
      // The head is asked in the same turn as the claim: on the one command connection both go in
      // one round trip, and Redis reads the head after the claim ran. (Where they could pass each
      // other — a Cluster, or one of them falling back to memory — an event in between reaches the
      // session as a gap, which it fills from the log.)
      const claimed = owners.claim({ userId, connId: session.connId, instanceId: options.instanceId });
      const head = eventLog.head(userId);
      head.catch(() => {}); // awaited below unless the claim failed or the socket closed
      const claim = await claimed;
      if (session.closed) {
        await owners.release(userId, session.connId);
        return;
      }
      // The upgrade's resume spends the budget a `resume` frame would; refused, the welcome does
      // not say `resuming` and the client sends the frame (and gets the usual `rate_limited`).
      const resume = upgradeResume !== null && (await this.#mayResume(userId)) ? upgradeResume : null;
      session.start({
        generation: claim.generation,
        resume,
        head: await head,
        heartbeat: {
          intervalMs: options.heartbeatIntervalMs,
          maxMissed: options.heartbeatMaxMissed,
          onTimeout: () => {
            options.metrics.wsHeartbeatTimeouts.inc();
            session.close(ServerClose.heartbeatTimeout);
          },
        },
      });
    });
  }

  /** Whether the user's `resume` budget allows one more (always, with no budgets). */
  async #mayResume(userId: number): Promise<boolean> {
    return !this.options.budgets || (await this.options.budgets.spend(BudgetKind.resume, userId)).ok;
  }

  /** The frame, or null for a bad one (answered with an error frame). Never throws. */
  #parse(session: Session, data: RawData, isBinary: boolean): ClientFrame | null {
    const { metrics } = this.options;
    const fail = (code: string, message: string, clientMsgId?: string) => {
      metrics.wsBadFrames.inc({ code });
      session.send({ type: ServerFrameType.error, code, message, ...(clientMsgId === undefined ? {} : { clientMsgId }) });
      return null;
    };
    if (isBinary) return fail(FrameErrorCode.binaryNotSupported, "Binary frames are not supported; send JSON text frames");
    const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return fail(parsed.code, parsed.message, parsed.clientMsgId);
    return parsed.frame;
  }

  /**
   * Spend the user's budget for the frame, then handle it. Over budget: a `rate_limited` error
   * frame (a refused `send` was not stored and carries its clientMsgId); a client that keeps
   * going past `maxRefusedFrames` in the burst window is closed with `4029 Rate limited`.
   */
  async #admit(session: Session, flood: FloodState, frame: ClientFrame): Promise<void> {
    const { budgets, metrics } = this.options;
    if (flood.closing || session.closed) return; // frames of a flood queued before the decision to close
    if (budgets) {
      const kind = budgetOf[frame.type];
      const spent = await budgets.spend(kind, session.userId);
      if (flood.closing || session.closed) return;
      if (!spent.ok) {
        metrics.rateLimited.inc({ kind, transport: "ws" });
        session.send({
          type: ServerFrameType.error,
          code: FrameErrorCode.rateLimited,
          message: `Too many ${frame.type} frames; wait ${spent.retryAfterMs} ms before the next one`,
          retryAfterMs: spent.retryAfterMs,
          ...(frame.type === ClientFrameType.send ? { clientMsgId: frame.clientMsgId } : {}),
        });
        if (await this.#refusals.exceeded(session.connId)) {
          flood.closing = true;
          this.#cooldown.start(session.userId);
          metrics.wsRateLimitCloses.inc();
          this.options.logger.info({ userId: session.userId, kind }, "closing a socket that kept sending over its budget");
          // Stop reading: the rest of the flood stays in the client's buffers instead of costing
          // this process a decode per frame. What was accepted still gets its ack (or error)
          // before the close, so the client knows exactly which sends were stored. The paused
          // socket cannot read the client's close reply, hence the short grace.
          session.ws.pause();
          await session.commandsDrained();
          session.close(ServerClose.rateLimited, RATE_LIMITED_CLOSE_GRACE_MS);
        }
        return;
      }
    }
    this.#handle(session, frame);
  }

  #handle(session: Session, frame: ClientFrame): void {
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
            session.send({
              type: ServerFrameType.error,
              code: FrameErrorCode.internal,
              message: "Message could not be sent; retry with the same clientMsgId",
              clientMsgId: frame.clientMsgId,
            });
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
  }

  #closeReplaced(session: Session): void {
    if (session.closed) return;
    this.options.metrics.wsReplacements.inc();
    if (this.#replacementLoops.replaced(session.userId)) {
      this.options.logger.warn({ userId: session.userId }, "user in a reconnect loop: replaced again and again (see docs/runbook.md#switchboardreconnectloop)");
    }
    // Asynchronous: the close handshake of the old socket never blocks the new one.
    session.close(ServerClose.replaced);
  }

  async #onClose(session: Session, code: number): Promise<void> {
    session.dispose();
    this.#sessions.delete(session.connId);
    const { metrics, logger } = this.options;
    metrics.wsConnections.set(this.#sessions.size);
    metrics.wsCloses.inc({ code: String(code) });
    this.#reconnects.closed(session.userId);
    try {
      // Removes the owner record only if it is still this connection's.
      await this.options.realtime.owners.release(session.userId, session.connId);
    } catch (error) {
      logger.warn({ err: error, userId: session.userId }, "owner release failed");
    }
  }

  /** Close every socket of these ended sessions with 1008 "Session ended" (logout, log out everywhere). */
  endSessions(sessionIds: ReadonlySet<string>): number {
    let closed = 0;
    for (const session of this.#sessions.values()) {
      if (!sessionIds.has(session.sessionId) || session.closed) continue;
      closed++;
      session.close(ServerClose.sessionEnded);
    }
    if (closed > 0) this.options.logger.info({ sockets: closed }, "closed the sockets of ended sessions");
    return closed;
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
    const plan = planDrain(this.#sessions.size, { socketsPerSecond: this.options.drainRate ?? 400, maxWindowMs: timeoutMs - graceMs });
    if (plan.windowMs > 0) this.options.logger.info({ sockets: this.#sessions.size, windowMs: plan.windowMs }, "draining sockets in slices");
    const closed: Array<Promise<void>> = [];
    // Every session of the drain, also those whose socket closes by itself before its slice.
    const sessions = new Set(this.#sessions.values());
    const queue = [...sessions];
    for (const [index, size] of plan.slices.entries()) {
      if (index > 0) await new Promise((r) => setTimeout(r, Math.max(0, startedAt + index * plan.sliceMs - Date.now())));
      for (const session of queue.splice(0, size)) {
        if (!this.#sessions.has(session.connId)) continue; // closed by itself meanwhile
        closed.push(new Promise((resolve) => session.ws.once("close", () => resolve())));
        session.close(ServerClose.serviceRestart, graceMs);
      }
    }
    await Promise.race([Promise.all(closed), deadline]);
    for (const session of this.#sessions.values()) {
      sessions.add(session); // accepted while the drain ran (its upgrade was already in flight)
      session.ws.terminate();
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

function rejectUpgrade(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n${extra}Content-Length: ${text.length}\r\n\r\n${text}`);
}
