import { applyHubMessage } from "../sdk/apply-hub-message.js";
import { HubMessageKind, type BatchedHubMessage } from "../sdk/hub-messages.js";
import type { Snapshot } from "../sdk/snapshot.js";
import type { Timers } from "./connection.js";
import type { KeyValueArea } from "./key-value-area.js";

export const SNAPSHOT_KEY = "snapshot";
/** How long a position-only change may wait for the next snapshot write (see `setPosition`). */
const POSITION_PERSIST_MS = 1000;

export interface SnapshotKeeperDeps {
  /** Where the snapshot survives the home's restart (`storage.session`, IndexedDB). */
  area: KeyValueArea;
  timers: Timers;
  /** Fan-out to every tab. */
  broadcast: (message: BatchedHubMessage) => void;
  /** The toolbar badge (extension only). */
  setBadge?: (count: number) => void;
}

/**
 * The hub's snapshot: every change goes through `apply`, which reduces, persists and broadcasts,
 * so tabs and storage always agree. Writes are coalesced to one per task.
 */
export class SnapshotKeeper {
  readonly #deps: SnapshotKeeperDeps;
  #snapshot: Snapshot;
  #persistQueued = false;
  #positionTimer: unknown = null;
  #stopped = false;

  constructor(deps: SnapshotKeeperDeps, snapshot: Snapshot) {
    this.#deps = deps;
    this.#snapshot = snapshot;
  }

  static async load(area: KeyValueArea): Promise<Snapshot | undefined> {
    return (await area.get(SNAPSHOT_KEY)) as Snapshot | undefined;
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  apply(message: BatchedHubMessage): void {
    if (this.#stopped) return;
    // The server's count confirming what a message event already counted: nothing to tell the tabs.
    if (message.kind === HubMessageKind.unread && message.count === this.#snapshot.unread) return;
    const previousUnread = this.#snapshot.unread;
    this.#snapshot = applyHubMessage(this.#snapshot, message);
    this.#deps.broadcast(message);
    void this.persist();
    if (this.#snapshot.unread !== previousUnread || message.kind === HubMessageKind.snapshot) this.#deps.setBadge?.(this.#snapshot.unread);
  }

  /** A change tabs do not render (profile ETag and check time): stored, not broadcast. */
  update(patch: Partial<Pick<Snapshot, "profileEtag" | "profileCheckedAt">>): void {
    this.#snapshot = { ...this.#snapshot, ...patch };
    void this.persist();
  }

  /**
   * A new stream position alone is written lazily: an event that changes anything is persisted at
   * once through `apply` (with this position), so what waits here only ever covers events that
   * changed nothing (the server's confirming `unread` after each message). Losing it to a killed
   * home means those are replayed on resume, which changes nothing either. Saves one storage
   * write (~15 KB through the browser process) per message.
   */
  setPosition(epoch: string | null, seq: number): void {
    this.#snapshot = { ...this.#snapshot, epoch, seq };
    this.#positionTimer ??= this.#deps.timers.setTimeout(() => {
      this.#positionTimer = null;
      void this.persist();
    }, POSITION_PERSIST_MS);
  }

  /** One storage write per burst of changes (a task), always of the latest snapshot. */
  async persist(): Promise<void> {
    // This write carries the latest position too.
    this.#deps.timers.clearTimeout(this.#positionTimer);
    this.#positionTimer = null;
    if (this.#persistQueued || this.#stopped) return;
    this.#persistQueued = true;
    await Promise.resolve();
    this.#persistQueued = false;
    if (this.#stopped) return;
    await this.#deps.area.set(SNAPSHOT_KEY, this.#snapshot);
  }

  /** Write what is pending now (a leader handing over) and stop writing and broadcasting. */
  async stop(options: { flush: boolean }): Promise<void> {
    this.#deps.timers.clearTimeout(this.#positionTimer);
    this.#positionTimer = null;
    const flush = options.flush && !this.#stopped;
    this.#stopped = true;
    if (flush) await this.#deps.area.set(SNAPSHOT_KEY, this.#snapshot);
  }

  /** Sign-out: nothing of this user stays in storage. */
  async clear(): Promise<void> {
    await this.#deps.area.remove(SNAPSHOT_KEY);
  }
}
