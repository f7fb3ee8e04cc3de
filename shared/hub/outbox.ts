import { FrameErrorCode } from "../protocol/frames.js";
import { HubMessageKind } from "../sdk/hub-messages.js";
import { OutboxState, type OutboxEntry } from "../sdk/outbox-entry.js";
import { ApiError } from "./api.js";
import type { Timers } from "./connection.js";
import type { KeyValueArea } from "./key-value-area.js";
import { SendRefusedError, type MessageSender } from "./message-sender.js";
import { afterFailure, classifyFailure, dueNow, enqueue, expire, FailureKind, nextAttemptAt, nextToSend, retried, type OutboxBounds } from "./outbox-queue.js";
import type { SnapshotKeeper } from "./snapshot-keeper.js";

export const OUTBOX_KEY = "outbox";

interface StoredOutbox {
  userId: number | null;
  entries: OutboxEntry[];
}

export interface OutboxDeps {
  /** Durable storage that survives a browser restart: `storage.local` in the worker, IndexedDB in a tab. */
  area: KeyValueArea;
  sender: MessageSender;
  keeper: SnapshotKeeper;
  timers: Timers;
  now: () => number;
  random: () => number;
  /** The signed-in user: the stored queue is tagged with it, so another user never inherits it. */
  userId: () => number | null;
  bounds: OutboxBounds;
  backoffBaseMs?: number;
  log?: (message: string) => void;
}

/**
 * Nothing typed is lost: a send is written to durable storage before it is attempted and removed
 * only on its ack. Drained in order per conversation (socket, falling back to REST, both
 * idempotent on `clientMsgId`) on every connect and after each backoff; a permanent refusal marks
 * the message failed for the user to retry or discard. Every change reaches the tabs through the
 * snapshot's `outbox`.
 */
export class Outbox {
  readonly #deps: OutboxDeps;
  #entries: OutboxEntry[];
  /** clientMsgIds with an attempt in flight: never two attempts of one message at once. */
  readonly #inFlight = new Set<string>();
  #timer: unknown = null;
  #stopped = false;

  /** `entries`: what `Outbox.read` found in storage (the queue a stopped home left). */
  constructor(deps: OutboxDeps, entries: OutboxEntry[]) {
    this.#deps = deps;
    this.#entries = entries;
  }

  static async read(area: KeyValueArea, userId: number): Promise<OutboxEntry[]> {
    const stored = (await area.get(OUTBOX_KEY)) as StoredOutbox | undefined;
    return stored?.userId === userId && Array.isArray(stored.entries) ? stored.entries : [];
  }

  get entries(): readonly OutboxEntry[] {
    return this.#entries;
  }

  /** Queue a message (durably, before any attempt) and start sending it. */
  async add(to: number, body: string, clientMsgId: string): Promise<OutboxEntry> {
    const now = this.#deps.now();
    const entry: OutboxEntry = { clientMsgId, to, body, queuedAt: now, state: OutboxState.pending, attempts: 0, nextAttemptAt: now };
    await this.#commit(enqueue(this.#entries, entry, this.#deps.bounds));
    this.drain();
    return this.#entries.find((existing) => existing.clientMsgId === clientMsgId) ?? entry;
  }

  async retry(clientMsgId: string): Promise<void> {
    const now = this.#deps.now();
    await this.#commit(this.#entries.map((entry) => (entry.clientMsgId === clientMsgId && entry.state === OutboxState.failed ? retried(entry, now) : entry)));
    this.drain();
  }

  async discard(clientMsgId: string): Promise<void> {
    if (this.#inFlight.has(clientMsgId)) throw new Error("This message is being sent right now: wait for the outcome, then discard it if it failed.");
    await this.#commit(this.#entries.filter((entry) => entry.clientMsgId !== clientMsgId));
  }

  /** Connected again: what waited for its backoff is due now. */
  onConnected(): void {
    void this.#commit(dueNow(this.#entries, this.#deps.now())).then(() => this.drain());
  }

  /** Sign-out: what this user typed does not stay on the device for the next one. */
  async clear(): Promise<void> {
    this.#inFlight.clear();
    await this.#commit([]);
  }

  /** Send every conversation's due head; each success or failure drains again. */
  drain(): void {
    if (this.#stopped) return;
    const now = this.#deps.now();
    const expired = expire(this.#entries, now, this.#deps.bounds);
    if (expired.some((entry, index) => entry !== this.#entries[index])) void this.#commit(expired);
    for (const entry of nextToSend(this.#entries, now)) {
      if (this.#inFlight.has(entry.clientMsgId)) continue;
      this.#inFlight.add(entry.clientMsgId);
      void this.#attempt(entry);
    }
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#deps.timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #attempt(entry: OutboxEntry): Promise<void> {
    try {
      await this.#deps.sender.send(entry.to, entry.body, entry.clientMsgId);
      this.#inFlight.delete(entry.clientMsgId);
      if (this.#stopped) return;
      await this.#commit(this.#entries.filter((existing) => existing.clientMsgId !== entry.clientMsgId));
    } catch (error) {
      this.#inFlight.delete(entry.clientMsgId);
      if (this.#stopped) return;
      // Over the user's send budget, or a server fault: the socket's answers that mean "later",
      // as 429 and 5xx do over REST (a drain of many queued messages meets the budget's burst).
      const refusedFor = error instanceof SendRefusedError ? error.code : undefined;
      const status =
        error instanceof ApiError ? error.status : refusedFor === FrameErrorCode.rateLimited ? 429 : refusedFor === FrameErrorCode.internal ? 503 : undefined;
      const kind = error instanceof SendRefusedError && status === undefined ? FailureKind.permanent : classifyFailure(status);
      const message = error instanceof Error ? error.message : String(error);
      const retryAfterMs = error instanceof ApiError || error instanceof SendRefusedError ? error.retryAfterMs : undefined;
      // The reason only: the body of a message never reaches a log.
      this.#deps.log?.(`outbox: attempt ${entry.attempts + 1} failed (${kind}${status ? `, ${status}` : ""})`);
      const now = this.#deps.now();
      const current = this.#entries.find((existing) => existing.clientMsgId === entry.clientMsgId);
      if (!current) return; // discarded or cleared meanwhile
      const next = afterFailure(current, { kind, message, status, retryAfterMs }, now, this.#deps.random(), this.#deps.backoffBaseMs);
      await this.#commit(this.#entries.map((existing) => (existing === current ? next : existing)));
    }
    this.drain();
  }

  /** Durable first, then the tabs hear of it. */
  async #commit(next: OutboxEntry[]): Promise<void> {
    this.#entries = next;
    if (next.length === 0) await this.#deps.area.remove(OUTBOX_KEY);
    else await this.#deps.area.set(OUTBOX_KEY, { userId: this.#deps.userId(), entries: next } satisfies StoredOutbox);
    this.#publish();
  }

  #publish(): void {
    if (!this.#stopped) this.#deps.keeper.apply({ kind: HubMessageKind.outbox, entries: this.#entries });
  }

  #schedule(): void {
    this.#deps.timers.clearTimeout(this.#timer);
    this.#timer = null;
    const due = nextAttemptAt(this.#entries, this.#inFlight);
    if (due === null) return;
    this.#timer = this.#deps.timers.setTimeout(
      () => {
        this.#timer = null;
        this.drain();
      },
      Math.max(0, due - this.#deps.now()),
    );
  }
}
