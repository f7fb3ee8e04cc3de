import { applyHubMessage } from "./apply-hub-message.js";
import { flattenHubMessage, HubMessageKind, TabRequestKind, type HubMessage, type TabRequest, type TabRequestMap } from "./hub-messages.js";
import { PendingReplies } from "./pending-replies.js";
import type { Snapshot } from "./snapshot.js";
import type { TabTransport } from "./tab-transport.js";

export interface SwitchboardClientOptions {
  /** How long a request waits for the hub's reply. @default 10000 */
  requestTimeoutMs?: number;
  /** @default crypto.randomUUID */
  newId?: () => string;
}

type Listener = (message: HubMessage, snapshot: Snapshot) => void;

/**
 * A tab's handle on the hub: the latest snapshot, a stream of what changed, and requests
 * (send, mark read, sign in, "Use here"…). It never opens a socket and never polls.
 */
export class SwitchboardClient {
  readonly #transport: TabTransport;
  readonly #timeoutMs: number;
  readonly #newId: () => string;
  readonly #listeners = new Set<Listener>();
  readonly #pending = new PendingReplies<unknown>();
  readonly #unlisten: () => void;
  #snapshot: Snapshot | null = null;
  #firstSnapshot: Promise<Snapshot>;
  #resolveFirst!: (snapshot: Snapshot) => void;

  constructor(transport: TabTransport, options: SwitchboardClientOptions = {}) {
    this.#transport = transport;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#newId = options.newId ?? (() => crypto.randomUUID());
    this.#firstSnapshot = new Promise((resolve) => (this.#resolveFirst = resolve));
    this.#unlisten = transport.listen((message) => this.#receive(message));
    void this.request(TabRequestKind.hello, {}).catch(() => undefined);
  }

  /** The latest snapshot, or null until the hub answered. */
  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  /** Resolves with the snapshot as soon as the hub sent one (the latest, if more came meanwhile). */
  ready(): Promise<Snapshot> {
    // The latest snapshot when the caller runs, not the first one: changes may follow it at once.
    return this.#snapshot ? Promise.resolve(this.#snapshot) : this.#firstSnapshot.then(() => this.#snapshot as Snapshot);
  }

  /** Adds a listener for every hub message (after the snapshot was updated); returns its remover. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  request<K extends keyof TabRequestMap>(kind: K, params: TabRequestMap[K]["params"]): Promise<TabRequestMap[K]["result"]> {
    const requestId = this.#newId();
    const reply = this.#pending.wait(
      requestId,
      this.#timeoutMs,
      () =>
        new Error(
          this.#transport.timeoutAdvice?.(kind, this.#timeoutMs) ??
            `The Switchboard extension did not answer "${kind}" within ${this.#timeoutMs} ms. Is it installed and enabled?`,
        ),
    );
    this.#transport.post({ kind, requestId, params } as TabRequest);
    return reply as Promise<TabRequestMap[K]["result"]>;
  }

  /** A fresh idempotency key for `send`. */
  newClientMsgId(): string {
    return this.#newId();
  }

  close(): void {
    this.#unlisten();
    this.#transport.close();
    this.#pending.rejectAll(new Error("The Switchboard client was closed."));
  }

  #receive(message: HubMessage): void {
    if (message.kind === HubMessageKind.reply) {
      // Another tab's request is not ours to settle (replies on a broadcast reach everyone).
      if (message.ok) this.#pending.resolve(message.requestId, message.result);
      else this.#pending.reject(message.requestId, new Error(message.error));
      return;
    }
    for (const change of flattenHubMessage(message)) {
      if (!this.#snapshot && change.kind !== HubMessageKind.snapshot) continue; // Wait for the baseline.
      this.#snapshot = applyHubMessage(this.#snapshot as Snapshot, change);
      if (change.kind === HubMessageKind.snapshot) this.#resolveFirst(change.snapshot);
    }
    if (this.#snapshot === null) return;
    for (const listener of this.#listeners) listener(message, this.#snapshot);
  }
}
