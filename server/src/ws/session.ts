import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { EventKind, ServerFrameType, type ChatEvent, type ServerFrame } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import type { EventCursor, EventLog, ReplayResult, StoredEvent } from "../realtime/ports.js";
import { corkUntilNextTurn } from "../net/cork-until-next-turn.js";
import { frameJson } from "./frame-json.js";
import { startHeartbeat, type Heartbeat } from "./heartbeat.js";

/** The heartbeat of a current session: ping every `intervalMs`, `onTimeout` after `maxMissed` unanswered. */
export interface HeartbeatSettings {
  intervalMs: number;
  maxMissed: number;
  onTimeout: () => void;
}

/** How long a replay waits for the client to read what was already sent before the next page. */
export const REPLAY_DRAIN_TIMEOUT_MS = 10_000;
const DRAIN_POLL_MS = 20;

export interface SessionDeps {
  eventLog: EventLog;
  logger: Logger;
  resumeMaxEvents: number;
  holdMs: number;
  maxHeld?: number;
  /** Unsent bytes allowed on the socket; past it `onSlowConsumer` runs once and nothing more is sent. @default Infinity */
  maxBufferedBytes?: number;
  /** The socket left too much unread: the server closes it with `4002 Slow consumer`. */
  onSlowConsumer?: () => void;
  /** Seconds from a live message's `createdAt` (stored) to its frame written to this socket. */
  observeDeliveryLatency?: (seconds: number) => void;
}

/**
 * One authenticated chat socket. Delivery is ordered by `seq` and never duplicates: events at
 * or below `lastSeq` are dropped, a gap is filled from the event log, and every send runs on one
 * promise chain. Until the client's `resume` arrives (or `holdMs` passes) live events are held,
 * so a resuming client gets what it missed before anything newer. It changes only through its
 * own methods: `start` once the registry made it current, `close`, `dispose` once the socket closed.
 */
export class Session {
  readonly userId: number;
  readonly connId: string;
  /** The access token's session (refresh-token family): ending it closes this socket. */
  readonly sessionId: string;
  #generation = 0;
  #epoch = "";
  #lastSeq = 0;
  #heartbeat: Heartbeat | null = null;
  #closed = false;
  #chain: Promise<void> = Promise.resolve();
  /** Tasks on `#chain` not finished yet: while 0, a live event in order can be sent at once. */
  #queuedTasks = 0;
  /** The client's own commands (`send`, `read`): they finish (reply) one at a time, in the order they arrived. */
  #commands: Promise<void> = Promise.resolve();
  /** Resolves once the latest command has *started* its work (a pipelined one) or finished (any other). */
  #started: Promise<void> = Promise.resolve();
  #holding = true;
  #held: StoredEvent[] = [];
  #holdTimer: NodeJS.Timeout | undefined;
  /** The cursor of a `resume` waiting behind the replay in flight; a newer `resume` replaces it. */
  #queuedResume: EventCursor | null = null;

  constructor(
    readonly ws: WebSocket,
    init: { userId: number; connId: string; sessionId?: string },
    private readonly deps: SessionDeps,
  ) {
    this.userId = init.userId;
    this.connId = init.connId;
    this.sessionId = init.sessionId ?? "";
  }

  /** The generation that made this session current (0 until `start`). */
  get generation(): number {
    return this.#generation;
  }

  /** True once the session is closing or closed: nothing more is sent. */
  get closed(): boolean {
    return this.#closed;
  }

  send(frame: ServerFrame): void {
    if (this.#closed || this.ws.readyState !== this.ws.OPEN) return;
    this.#corkUntilNextTurn();
    this.ws.send(frameJson(frame));
    // A peer that stops reading makes every frame pile up in this process: past the cap, stop
    // and let the server close the socket (the client reconnects and resumes; nothing is lost).
    if (this.ws.bufferedAmount > (this.deps.maxBufferedBytes ?? Infinity)) this.#slowConsumer();
  }

  /**
   * The frames of one turn of the event loop (an ack, the echo, the next event…) leave in one
   * `writev`. ws has no public handle on its TCP socket, so it is reached through `_socket`.
   */
  #corkUntilNextTurn(): void {
    corkUntilNextTurn((this.ws as unknown as { _socket?: Socket })._socket);
  }

  #slowConsumer(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.deps.onSlowConsumer?.();
  }

  /** Resolves true once the socket's unsent data is at most half the cap; false if it closed or did not drain in time. */
  async #drained(): Promise<boolean> {
    const lowWater = (this.deps.maxBufferedBytes ?? Infinity) / 2;
    const deadline = Date.now() + REPLAY_DRAIN_TIMEOUT_MS;
    while (!this.#closed && this.ws.bufferedAmount > lowWater) {
      if (Date.now() >= deadline) {
        this.#slowConsumer();
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS).unref());
    }
    return !this.#closed;
  }

  /** Start the close handshake with `code` and `reason`; if the peer does not answer in `graceMs`, drop the TCP link. */
  close(close: { code: number; reason: string }, graceMs = 2000): void {
    this.#closed = true;
    const { ws } = this;
    if (ws.readyState === ws.CLOSED) return;
    if (ws.readyState !== ws.CLOSING) ws.close(close.code, close.reason);
    const timer = setTimeout(() => ws.terminate(), graceMs);
    timer.unref?.();
    ws.once("close", () => clearTimeout(timer));
  }

  /** The client answered a protocol ping. */
  pong(): void {
    this.#heartbeat?.pong();
  }

  /** Run `task` after everything queued before it; failures are logged, never thrown. */
  enqueue(task: () => Promise<void> | void): Promise<void> {
    this.#queuedTasks++;
    this.#chain = this.#chain
      .then(task)
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error, userId: this.userId }, "session task failed");
      })
      .finally(() => {
        this.#queuedTasks--;
      });
    return this.#chain;
  }

  /** Run a client command after the ones before it have finished; never throws. */
  command(task: () => Promise<void>): void {
    this.#commands = this.#commands.then(task).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, userId: this.userId }, "client command failed");
    });
    this.#started = this.#commands;
  }

  /**
   * A pipelined client command: `start` runs once the command before it has *started* (so
   * consecutive sends issue their work in arrival order without waiting for each other's round
   * trips) and returns `{ done }`; `finish` gets the outcome of `done` on the command chain, after
   * every earlier command finished — replies keep arrival order. Never throws.
   */
  pipeline<T>(start: () => Promise<{ done: Promise<T> }>, finish: (outcome: PromiseSettledResult<T>) => void): void {
    const started = this.#started.then(start);
    this.#started = started.then(
      () => undefined,
      () => undefined,
    );
    const done = started.then(({ done }) => done);
    done.catch(() => undefined); // settled in order below
    this.#commands = this.#commands
      .then(() =>
        done.then(
          (value) => finish({ status: "fulfilled", value }),
          (reason: unknown) => finish({ status: "rejected", reason }),
        ),
      )
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error, userId: this.userId }, "client command failed");
      });
  }

  /** Resolves when every command received so far has finished. */
  commandsDrained(): Promise<void> {
    return this.#commands;
  }

  /**
   * Called once the connection is the user's current one: sends `welcome`, starts the hold and the
   * heartbeat. `resume`: the cursor the upgrade carried — the welcome says `resuming` and the
   * replay follows at once, as for a `resume` frame.
   */
  start(welcome: { generation: number; head: EventCursor; heartbeat: HeartbeatSettings; resume?: EventCursor | null }): void {
    this.#generation = welcome.generation;
    this.#epoch = welcome.head.epoch;
    this.#lastSeq = welcome.head.seq;
    this.send({
      type: ServerFrameType.welcome,
      userId: this.userId,
      connId: this.connId,
      generation: welcome.generation,
      epoch: welcome.head.epoch,
      seq: welcome.head.seq,
      heartbeatIntervalMs: welcome.heartbeat.intervalMs,
      ...(welcome.resume ? { resuming: true as const } : {}),
    });
    this.#holdTimer = setTimeout(() => this.enqueue(() => this.#release()), this.deps.holdMs);
    this.#holdTimer.unref?.();
    this.#heartbeat = startHeartbeat({ ...welcome.heartbeat, ping: () => this.ws.ping() });
    if (welcome.resume) void this.resume(welcome.resume);
  }

  /** A live event for this user (from the bus). */
  deliver(stored: StoredEvent): void {
    if (this.#holding) {
      if (this.#held.length < (this.deps.maxHeld ?? 1000)) this.#held.push(stored);
      return;
    }
    // The usual case — the next event of the current epoch, nothing queued before it — is sent at
    // once; anything else (a gap to fill, a new epoch, a replay in progress) takes the chain.
    if (this.#queuedTasks === 0 && stored.epoch === this.#epoch && stored.seq === this.#lastSeq + 1) {
      this.#sendLive(stored);
      return;
    }
    void this.enqueue(() => this.#deliverInOrder(stored));
  }

  /**
   * The client's `resume {epoch, seq}`: replay what it missed, then `resumed`. One replay at a
   * time: a `resume` that arrives while one is queued replaces the queued cursor (the client cares
   * about its latest position), so a client repeating `resume` costs at most one replay in flight
   * and one waiting, never one per frame.
   */
  resume(cursor: EventCursor): Promise<void> {
    const alreadyQueued = this.#queuedResume !== null;
    this.#queuedResume = cursor;
    if (alreadyQueued) return this.#chain;
    return this.enqueue(async () => {
      cursor = this.#queuedResume ?? cursor;
      this.#queuedResume = null;
      if (this.#closed) return;
      // Nothing to resume (`epoch: ""`, a client without a position) is never recoverable: answer
      // from the position `welcome` gave, without a round trip to the log. Live events since the
      // welcome were held and follow the `resumed`.
      const first: ReplayResult =
        cursor.epoch === "" && this.#generation > 0
          ? { recovered: false, events: [], more: false, head: { epoch: this.#epoch, seq: this.#lastSeq } }
          : await this.deps.eventLog.since(this.userId, cursor, this.deps.resumeMaxEvents);
      if (!first.recovered) {
        this.#epoch = first.head.epoch;
        this.#lastSeq = Math.max(this.#holding ? first.head.seq : this.#lastSeq, first.head.seq);
        this.send({ type: ServerFrameType.resumed, recovered: false, epoch: first.head.epoch, seq: first.head.seq });
        await this.#release();
        return;
      }
      // Replay from the client's cursor. Bounded per request: page through the log.
      this.#epoch = cursor.epoch;
      let sentUpTo = cursor.seq;
      let page = first;
      for (let pages = 0; ; pages++) {
        for (const stored of page.events) {
          if (stored.seq <= sentUpTo) continue;
          this.#sendEvent(stored);
          sentUpTo = stored.seq;
        }
        if (!page.more || pages > 100) break;
        // Flow control: the next page only once the client has read most of this one.
        if (!(await this.#drained())) return;
        page = await this.deps.eventLog.since(this.userId, { epoch: cursor.epoch, seq: sentUpTo }, this.deps.resumeMaxEvents);
        if (!page.recovered) break;
      }
      this.#lastSeq = sentUpTo;
      this.send({ type: ServerFrameType.resumed, recovered: true, epoch: this.#epoch, seq: sentUpTo });
      await this.#release();
    });
  }

  async #release(): Promise<void> {
    if (!this.#holding) return;
    this.#holding = false;
    clearTimeout(this.#holdTimer);
    const held = this.#held.sort((a, b) => a.seq - b.seq);
    this.#held = [];
    for (const stored of held) await this.#deliverInOrder(stored);
  }

  async #deliverInOrder(stored: StoredEvent): Promise<void> {
    if (stored.epoch !== this.#epoch) {
      // The history was reset (e.g. Redis lost it, or events went to this instance's memory during
      // an outage): what happened meanwhile cannot be replayed. Tell the client to refetch over
      // REST, then follow the new epoch from this event on.
      this.#epoch = stored.epoch;
      this.#lastSeq = stored.seq - 1;
      this.send({ type: ServerFrameType.resumed, recovered: false, epoch: stored.epoch, seq: this.#lastSeq });
    }
    if (stored.seq <= this.#lastSeq) return; // already sent
    if (stored.seq > this.#lastSeq + 1) {
      const gap = await this.deps.eventLog.since(this.userId, { epoch: this.#epoch, seq: this.#lastSeq }, this.deps.resumeMaxEvents);
      if (gap.recovered) {
        for (const missed of gap.events) {
          if (missed.seq > this.#lastSeq && missed.seq < stored.seq) this.#sendEvent(missed);
        }
      }
    }
    this.#sendLive(stored);
  }

  #sendLive(stored: StoredEvent): void {
    this.#sendEvent(stored);
    if (stored.event.kind === EventKind.message && this.deps.observeDeliveryLatency) {
      const storedAt = Date.parse(stored.event.message.createdAt);
      if (Number.isFinite(storedAt)) this.deps.observeDeliveryLatency(Math.max(0, Date.now() - storedAt) / 1000);
    }
  }

  #sendEvent(stored: StoredEvent): void {
    this.#lastSeq = stored.seq;
    this.send({ type: ServerFrameType.event, seq: stored.seq, epoch: stored.epoch, event: stored.event });
  }

  /** The socket closed: stop every timer and drop what is held. */
  dispose(): void {
    this.#closed = true;
    this.#heartbeat?.stop();
    clearTimeout(this.#holdTimer);
    this.#held = [];
  }
}

export type { ChatEvent };
