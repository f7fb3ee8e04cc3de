import type { ChatMessage } from "../../../shared/protocol/index.js";
import type { InsertOutcome, NewMessage, Store } from "./store.js";

/** What a write gives back: the insert outcome, plus the recipient's unread count after a created message. */
export type WriteOutcome =
  | { kind: "created"; message: ChatMessage /** null when not known: ask the store. */; unread: number | null }
  | { kind: "duplicate"; message: ChatMessage }
  | { kind: "recipientNotFound" };

export interface MessageWriterOptions {
  /**
   * Independent write queues; a sender always uses the same one (`sender % lanes`), so each
   * sender's messages are inserted in the order written. Each lane holds at most one database
   * connection at a time. @default 4
   */
  lanes?: number;
  /** Largest batch one statement inserts. @default 256 */
  maxBatch?: number;
}

interface Pending {
  input: NewMessage;
  resolve(outcome: WriteOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for sends. A write joins its lane's queue; an idle lane starts a batch at once (no
 * added latency when quiet), and whatever arrives while a batch is in the database goes in the
 * next one. One batch = one call: a multi-row INSERT (recipient check and idempotency included)
 * and its recipients' unread counts, instead of three round trips per message.
 *
 * A batch the database rejects as a whole (e.g. a body Postgres cannot store) is retried one
 * message at a time, so one bad message fails alone and never another user's send.
 */
export class MessageWriter {
  readonly #lanes: Pending[][];
  readonly #busy: boolean[];
  readonly #maxBatch: number;

  constructor(
    private readonly store: Pick<Store, "insertMessages">,
    options: MessageWriterOptions = {},
  ) {
    const lanes = Math.max(1, options.lanes ?? 4);
    this.#lanes = Array.from({ length: lanes }, () => []);
    this.#busy = Array.from({ length: lanes }, () => false);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
  }

  /** Store one message; resolves once it is committed (or known to be a duplicate / undeliverable). */
  write(input: NewMessage): Promise<WriteOutcome> {
    const lane = Math.abs(input.from) % this.#lanes.length;
    return new Promise((resolve, reject) => {
      this.#lanes[lane]!.push({ input, resolve, reject });
      // A microtask, so writes arriving in the same tick (one socket read) share the first batch.
      if (!this.#busy[lane]) {
        this.#busy[lane] = true;
        queueMicrotask(() => void this.#drain(lane));
      }
    });
  }

  async #drain(lane: number): Promise<void> {
    const queue = this.#lanes[lane]!;
    while (queue.length > 0) {
      const batch = queue.splice(0, this.#maxBatch);
      try {
        const outcomes = await this.#insert(batch.map((p) => p.input));
        batch.forEach((pending, i) => {
          pending.resolve(outcomes[i]!);
        });
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        else await this.#oneByOne(batch);
      }
    }
    this.#busy[lane] = false;
  }

  async #oneByOne(batch: Pending[]): Promise<void> {
    for (const pending of batch) {
      try {
        const [outcome] = await this.#insert([pending.input]);
        pending.resolve(outcome!);
      } catch (error) {
        pending.reject(error);
      }
    }
  }

  async #insert(inputs: NewMessage[]): Promise<WriteOutcome[]> {
    const { outcomes: inserted, unreadAfter: counts } = await this.store.insertMessages(inputs);
    // The count right after the batch (and anything committed before it), read in the same call.
    // A recipient's earlier messages in the batch get the count as it was right after each.
    const later = new Map<number, number>();
    const outcomes: WriteOutcome[] = new Array(inserted.length);
    for (let i = inserted.length - 1; i >= 0; i--) {
      const outcome = inserted[i]!;
      if (outcome.kind !== "created") {
        outcomes[i] = outcome;
        continue;
      }
      const to = outcome.message.to;
      const after = later.get(to) ?? 0;
      later.set(to, after + 1);
      const total = counts.get(to);
      outcomes[i] = { ...outcome, unread: total === undefined ? null : Math.max(0, total - after) };
    }
    return outcomes;
  }
}
