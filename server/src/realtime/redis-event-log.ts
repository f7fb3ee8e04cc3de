import { randomUUID } from "node:crypto";
import type { ChatEvent } from "../../../shared/protocol/index.js";
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
}

/**
 * Per-user event history in a Redis Stream (`sb:{u:<id>}:events`) plus a meta hash
 * (`sb:{u:<id>}:hist` = `{epoch, seq}`). Seq assignment and XADD happen in one Lua script, so
 * concurrent appends from several instances get distinct, increasing seqs in stream order. The
 * epoch is a random id made when the user's history is first created or found missing (expired,
 * or a Redis restart lost it): a client holding an older epoch is told `recovered:false`.
 */
export class RedisEventLog implements EventLog {
  readonly #scripts: RealtimeScripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisEventLogOptions,
  ) {
    this.#scripts = realtimeScripts(this.redis);
  }

  async append(userId: number, event: ChatEvent): Promise<StoredEvent> {
    const [epoch, seq] = await this.#scripts.historyAppend(
      historyMetaKey(userId),
      historyStreamKey(userId),
      JSON.stringify(event),
      this.options.maxLen,
      this.options.maxAgeMs,
      randomUUID(),
    );
    return { epoch, seq: Number(seq), event };
  }

  /**
   * `append`, then deliver the event to the instance in the user's owner record (what
   * `RedisEventBus.publish` does), in one script: one round trip per event.
   */
  async appendAndRoute(userId: number, event: ChatEvent): Promise<StoredEvent> {
    const [epoch, seq] = await this.#scripts.historyAppendAndRoute(
      historyMetaKey(userId),
      historyStreamKey(userId),
      ownerKey(userId),
      JSON.stringify(event),
      this.options.maxLen,
      this.options.maxAgeMs,
      randomUUID(),
      INSTANCE_CHANNEL_PREFIX,
      userId,
    );
    return { epoch, seq: Number(seq), event };
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
