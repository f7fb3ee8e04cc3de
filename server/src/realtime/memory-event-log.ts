import { randomUUID } from "node:crypto";
import type { ChatEvent } from "../../../shared/protocol/index.js";
import type { EventCursor, EventLog, ReplayResult, StoredEvent } from "./ports.js";

interface UserHistory {
  epoch: string;
  seq: number;
  events: StoredEvent[];
  /** Time each event was appended, for age-based trimming. */
  times: number[];
}

/**
 * Per-user event history in this process, bounded by length and age. A fresh process (or a
 * fallback switch) starts a new epoch per user, so clients holding an older epoch are told
 * `recovered:false` and refetch over REST.
 */
export class MemoryEventLog implements EventLog {
  readonly #users = new Map<number, UserHistory>();

  constructor(private readonly options: { maxLen: number; maxAgeMs: number; now?: () => number } = { maxLen: 1000, maxAgeMs: 24 * 3600_000 }) {}

  #history(userId: number): UserHistory {
    let history = this.#users.get(userId);
    if (!history) {
      history = { epoch: randomUUID(), seq: 0, events: [], times: [] };
      this.#users.set(userId, history);
    }
    return history;
  }

  #trim(history: UserHistory): void {
    const now = (this.options.now ?? Date.now)();
    let drop = Math.max(0, history.events.length - this.options.maxLen);
    while (drop < history.times.length && now - history.times[drop]! > this.options.maxAgeMs) drop++;
    if (drop > 0) {
      history.events.splice(0, drop);
      history.times.splice(0, drop);
    }
  }

  async append(userId: number, event: ChatEvent): Promise<StoredEvent> {
    return this.appendSync(userId, event);
  }

  appendSync(userId: number, event: ChatEvent): StoredEvent {
    const history = this.#history(userId);
    history.seq += 1;
    const stored: StoredEvent = { epoch: history.epoch, seq: history.seq, event };
    history.events.push(stored);
    history.times.push((this.options.now ?? Date.now)());
    this.#trim(history);
    return stored;
  }

  async head(userId: number): Promise<EventCursor> {
    const history = this.#history(userId);
    return { epoch: history.epoch, seq: history.seq };
  }

  async since(userId: number, cursor: EventCursor, limit: number): Promise<ReplayResult> {
    const history = this.#history(userId);
    this.#trim(history);
    const head = { epoch: history.epoch, seq: history.seq };
    if (cursor.epoch !== history.epoch || cursor.seq > history.seq) {
      return { recovered: false, events: [], more: false, head };
    }
    const oldest = history.events[0]?.seq ?? history.seq + 1;
    if (cursor.seq + 1 < oldest) return { recovered: false, events: [], more: false, head };
    const start = cursor.seq + 1 - oldest;
    const events = history.events.slice(start, start + limit);
    return { recovered: true, events, more: start + limit < history.events.length, head };
  }
}
