import type { ChatMessage } from "../../../shared/protocol/index.js";
import type { Db } from "./db.js";
import type { InsertOutcome, NewMessage, Store } from "./store.js";

/**
 * PGlite is one connection in one worker thread: lanes only split its batches smaller. Measured in
 * bench:peers (embedded, 3,000 msg/s offered, interleaved, load 5-7): 1 lane + 4 ms gathering
 * 2,564 delivered/s against 1,660 with 2 lanes and no gathering; 1 vs 2 vs 4 lanes without
 * gathering were within the box's noise.
 */
const PGLITE_LANES = 1;
const PGLITE_GATHER_MS = 4;

/**
 * Postgres: 2 lanes, each starting at most one batch per 2 ms. Measured in bench:peers (Postgres,
 * three interleaved runs, quiet box) against 4 lanes without gathering: Redis + Postgres CPU per
 * delivered message 512 vs 603 µs at 1k msg/s, 238 vs 306 µs at 3k, 113 vs 129 µs at 6k, the
 * server's own unchanged; p99 21.6 vs 51.7 ms (1k), 56 vs 56 ms (3k), 99 vs 168 ms (6k). Fewer,
 * larger batches are fewer transactions for Postgres to commit; 2 ms is below the p50 the socket
 * path adds anyway. 4 ms saved another 5-10 % but added 0.5-1 ms to p50 with no better p99.
 */
const POSTGRES_LANES = 2;
const POSTGRES_GATHER_MS = 2;

/** What a write gives back: the insert outcome, plus the recipient's unread count after a created message. */
export type WriteOutcome =
  | { kind: "created"; message: ChatMessage /** null when not known: ask the store. */; unread: number | null }
  | { kind: "duplicate"; message: ChatMessage }
  | { kind: "recipientNotFound" };

export interface MessageWriterOptions {
  /**
   * Independent write queues; a sender always uses the same one (`sender % lanes`), so each
   * sender's messages are inserted in the order written. Each lane holds at most one database
   * connection at a time. @default 2, 1 for PGlite
   */
  lanes?: number;
  /** Largest batch one statement inserts. @default 256 */
  maxBatch?: number;
  /**
   * A lane starts at most one batch per this many milliseconds: a write that arrives sooner after
   * the lane's last batch began waits for the rest of the interval, and shares the batch with the
   * writes arriving meanwhile. A quiet lane (last batch longer ago) still starts at once. For
   * PGlite, where a batch costs about 1.1 ms of fixed work plus 0.1 ms a message (measured: 1 →
   * 1,259 µs, 4 → 1,667 µs, 16 → 3,043 µs per batch), so that at 1,000 msg/s single-message
   * batches would keep its one thread busy. On Postgres a short wait means fewer transactions
   * to commit (see `POSTGRES_GATHER_MS`). @default 4 for PGlite, 2 otherwise
   */
  gatherMs?: number;
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
  readonly #gatherMs: number;
  /** When each lane's last batch began (performance.now()). */
  readonly #lastBatchAt: number[];

  constructor(
    private readonly store: Pick<Store, "insertMessages"> & { readonly db?: Pick<Db, "engine"> },
    options: MessageWriterOptions = {},
  ) {
    const pglite = store.db?.engine === "pglite";
    const lanes = Math.max(1, options.lanes ?? (pglite ? PGLITE_LANES : POSTGRES_LANES));
    this.#lanes = Array.from({ length: lanes }, () => []);
    this.#busy = Array.from({ length: lanes }, () => false);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.#gatherMs = Math.max(0, options.gatherMs ?? (pglite ? PGLITE_GATHER_MS : POSTGRES_GATHER_MS));
    this.#lastBatchAt = Array.from({ length: lanes }, () => Number.NEGATIVE_INFINITY);
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
      const wait = this.#lastBatchAt[lane]! + this.#gatherMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.#lastBatchAt[lane] = performance.now();
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
