import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import type { ChatEvent } from "../../../shared/protocol/index.js";
import { eventJson } from "./event-json.js";
import type { EventCursor, EventLog, ReplayResult, StoredEvent } from "./ports.js";
import { INSTANCE_CHANNEL_PREFIX, historyMetaKey, historyStreamKey, ownerKey, type RedisClient } from "./redis-keys.js";
import { realtimeScripts, type RealtimeScripts } from "./redis-scripts.js";

export interface RedisEventLogOptions {
  /** Entries kept per user (`XADD … MAXLEN ~`, so Redis may keep slightly more). */
  maxLen: number;
  /** Entries older than this are trimmed and never replayed; an idle user's history expires after it. */
  maxAgeMs: number;
  /** Upper bound of one `since()` reply, whatever `limit` the caller asks for. */
  maxReplay: number;
  /** The instance this log runs on: `appendAndRoute` says when the user's socket is here instead of publishing to it. */
  instanceId?: string;
}

/** An appended event, and whether its user's socket is on this instance (then nothing was published: deliver it here). */
export interface RoutedAppend {
  stored: StoredEvent;
  here: boolean;
}

interface QueuedAppend {
  userId: number;
  event: ChatEvent;
  payload: string;
  resolve(routed: RoutedAppend): void;
  reject(error: unknown): void;
}

/**
 * Events one script call appends at most: Redis runs a script without serving anyone else, so
 * this bounds that pause (~1 ms on this project's benchmark machine).
 */
export const MAX_EVENTS_PER_CALL = 128;

/**
 * Per-user event history in a Redis Stream (`sb:{u:<id>}:events`) plus a meta hash
 * (`sb:{u:<id>}:hist` = `{epoch, seq}`). Seq assignment and XADD happen in one Lua script, so
 * concurrent appends from several instances get distinct, increasing seqs in stream order. The
 * epoch is a random id made when the user's history is first created or found missing (expired,
 * or a Redis restart lost it): a client holding an older epoch is told `recovered:false`.
 */
export class RedisEventLog implements EventLog {
  readonly #scripts: RealtimeScripts;
  /** Standalone Redis: a turn's events go in one script call; a Cluster call holds one user's keys (one slot). */
  readonly #batching: boolean;
  #queued: QueuedAppend[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisEventLogOptions,
  ) {
    this.#scripts = realtimeScripts(this.redis);
    this.#batching = !(redis instanceof Cluster);
  }

  async append(userId: number, event: ChatEvent): Promise<StoredEvent> {
    const [epoch, seq] = await this.#scripts.historyAppend(
      historyMetaKey(userId),
      historyStreamKey(userId),
      eventJson(event),
      this.options.maxLen,
      this.options.maxAgeMs,
      randomUUID(),
    );
    return { epoch, seq: Number(seq), event };
  }

  /**
   * `append`, then deliver the event to the instance in the user's owner record (what
   * `RedisEventBus.publish` does), in one script. When that instance is this one, nothing is
   * published and `here` is true: the caller delivers it. On a standalone Redis the events of one
   * event-loop turn (a message's three, and every other send that turn) share one script call,
   * sent when the turn's I/O is done — when the corked sockets are written anyway — in the order
   * they were appended.
   */
  appendAndRoute(userId: number, event: ChatEvent): Promise<RoutedAppend> {
    return new Promise((resolve, reject) => {
      const queued = { userId, event, payload: eventJson(event), resolve, reject };
      if (!this.#batching) {
        void this.#call([queued]);
        return;
      }
      if (this.#queued.push(queued) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    for (let start = 0; start < queued.length; start += MAX_EVENTS_PER_CALL) void this.#call(queued.slice(start, start + MAX_EVENTS_PER_CALL));
  }

  async #call(batch: QueuedAppend[]): Promise<void> {
    const keys: string[] = [];
    const events: (string | number)[] = [];
    for (const { userId, payload } of batch) {
      keys.push(historyMetaKey(userId), historyStreamKey(userId), ownerKey(userId));
      events.push(payload, userId);
    }
    let reply: (string | number)[];
    try {
      reply = await this.#scripts.historyAppendAndRouteMany(
        keys,
        this.options.maxLen,
        this.options.maxAgeMs,
        randomUUID(), // a user with no history yet starts this epoch; one per call is enough
        INSTANCE_CHANNEL_PREFIX,
        this.options.instanceId ?? "",
        events,
      );
    } catch (error) {
      for (const queued of batch) queued.reject(error);
      return;
    }
    batch.forEach((queued, i) => {
      queued.resolve({ stored: { epoch: String(reply[3 * i]), seq: Number(reply[3 * i + 1]), event: queued.event }, here: reply[3 * i + 2] === 1 });
    });
  }

  async head(userId: number): Promise<EventCursor> {
    const [epoch, seq] = await this.#scripts.historyHead(historyMetaKey(userId), historyStreamKey(userId), randomUUID(), this.options.maxAgeMs);
    return { epoch, seq: Number(seq) };
  }

  async since(userId: number, cursor: EventCursor, limit: number): Promise<ReplayResult> {
    const bounded = Math.max(1, Math.min(Math.floor(limit), this.options.maxReplay));
    const [recovered, epoch, headSeq, ...pairs] = await this.#scripts.historySince(
      historyMetaKey(userId),
      historyStreamKey(userId),
      cursor.epoch,
      Math.max(0, Math.floor(cursor.seq)),
      bounded,
      randomUUID(),
      this.options.maxAgeMs,
    );
    const head = { epoch, seq: Number(headSeq) };
    const events: StoredEvent[] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      events.push({ epoch, seq: Number(pairs[i]), event: JSON.parse(String(pairs[i + 1])) as ChatEvent });
    }
    const last = events.at(-1)?.seq ?? cursor.seq;
    return { recovered: recovered === 1, events, more: recovered === 1 && last < head.seq, head };
  }

  /** Forget the user's history: the next use starts a new epoch (after events were kept elsewhere during an outage). */
  async reset(userId: number): Promise<void> {
    await this.redis.del(historyMetaKey(userId), historyStreamKey(userId));
  }
}
