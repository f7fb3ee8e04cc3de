import { BroadcastChannel } from "broadcast-channel";
import type { Timers } from "../hub/connection.js";
import { frameBatcher, type FrameBatcher } from "../hub/frame-batcher.js";
import type { Hub } from "../hub/hub.js";
import { ConnectionState } from "../sdk/connection-state.js";
import { HubMessageKind, TabRequestKind, type BatchedHubMessage, type HubMessage, type TabRequest } from "../sdk/hub-messages.js";
import { emptySnapshot, type Snapshot } from "../sdk/snapshot.js";
import type { TabTransport } from "../sdk/tab-transport.js";
import { COORDINATOR_CHANNEL_NAME, CoordinatorMessageKind, type CoordinatorMessage } from "./coordinator-messages.js";
import { Leadership } from "./leadership.js";
import {
  EXTENSION_ANNOUNCE_MS,
  extensionPresent,
  HEARTBEAT_MS,
  HELLO_TIMEOUT_MS,
  RESEND_AFTER_MS,
  TAKEOVER_JITTER_MS,
  isCurrentTerm,
  nextTerm,
  shouldTakeOver,
  type HeardState,
} from "./takeover.js";

export interface CoordinatedTransportDeps {
  /** This tab's name on the channel. @default crypto.randomUUID() */
  tabId?: string;
  /** Start this tab's hub when it wins the election; `broadcast` fans out to every tab, `mayConnect` guards sockets. */
  startHub: (hooks: { broadcast: (message: BatchedHubMessage) => void; mayConnect: () => Promise<boolean> }) => Promise<Hub>;
  /** The snapshot the last leader stored (IndexedDB), shown when no hub answers in time. */
  lastKnownSnapshot: () => Promise<Snapshot | undefined>;
  /** `navigator.locks` (undefined where the browser has none). */
  locks: LockManager | undefined;
  timers: Timers;
  now: () => number;
  random: () => number;
  /**
   * A tab the extension serves announced itself (see `announceExtension`): this tab has already
   * handed over (a leader closed its socket silently) and stopped standing for election; the web
   * app reloads it so the extension's content script joins it.
   */
  onExtension?: () => void;
  /** This tab started or stopped leading (the web app marks the document, for tests and diagnostics). */
  onRole?: (leader: boolean) => void;
  log?: (message: string) => void;
}

/**
 * The web app's transport when no extension serves the page: the origin's tabs elect one leader
 * that runs the hub (the same `Hub` as the extension's worker) and holds the one socket; the
 * others send their requests to it on a BroadcastChannel and hear its changes there. A request
 * stays in flight until answered and is sent again to each new leader (sends are idempotent on
 * `clientMsgId`), so a leader that dies mid-request loses nothing.
 */
export class CoordinatedTransport implements TabTransport {
  readonly #deps: CoordinatedTransportDeps;
  readonly #tabId: string;
  readonly #channel = new BroadcastChannel<CoordinatorMessage>(COORDINATOR_CHANNEL_NAME);
  readonly #leadership: Leadership;
  readonly #listeners = new Set<(message: HubMessage) => void>();
  /** Requests not answered yet, with when each was last sent (to whichever leader there was). */
  readonly #inFlight = new Map<string, { request: TabRequest; sentAt: number }>();
  /** Followers' requests that reached this tab while its hub was still starting. */
  #queued: Array<Extract<CoordinatorMessage, { kind: typeof CoordinatorMessageKind.request }>> | null = null;
  readonly #heard: HeardState;
  readonly #jitterMs: number;
  #hub: Hub | null = null;
  /** The fan-out of this tab's latest lead; `close()` flushes it only while leading (a hub runs). */
  #toTabs: FrameBatcher | null = null;
  /** Requests this tab's hub is answering now: a follower's resend of one of them is not run twice. */
  readonly #handling = new Set<string>();
  #term = 0;
  #answered = false;
  #closed = false;
  #tick: unknown = null;
  #resyncs = 0;

  constructor(deps: CoordinatedTransportDeps) {
    this.#deps = deps;
    this.#tabId = deps.tabId ?? crypto.randomUUID();
    this.#heard = { term: 0, lastHeardAt: deps.now(), extensionSeenAt: null };
    this.#jitterMs = deps.random() * TAKEOVER_JITTER_MS;
    this.#channel.onmessage = (message) => this.#receive(message);
    this.#leadership = new Leadership({
      locks: deps.locks,
      onLead: () => void this.#lead(),
      onLost: () => this.#lost(),
      log: (message) => this.#log(message),
    });
    this.#leadership.stand();
    this.#scheduleTick();
    deps.timers.setTimeout(() => void this.#showLastKnown(), HELLO_TIMEOUT_MS);
  }

  get isLeader(): boolean {
    return this.#hub !== null;
  }

  post(request: TabRequest): void {
    this.#deliver(request);
  }

  listen(listener: (message: HubMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  timeoutAdvice(kind: string, timeoutMs: number): string {
    return `No Switchboard tab answered "${kind}" within ${timeoutMs} ms; another tab of this site may be frozen. It is sent again when a tab takes over.`;
  }

  /** The page's `online`/`offline` events: for this tab's hub, while it leads (a follower holds no socket). */
  setOnline(online: boolean): void {
    this.#hub?.setOnline(online);
  }

  /** The tab closes: hand the socket and the snapshot over to the next leader. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.timers.clearTimeout(this.#tick);
    const hub = this.#hub;
    this.#hub = null;
    void hub?.handOver();
    // What the frame still holds is in the snapshot just written, which the next leader resumes
    // after: sent now, or the other tabs would never see it.
    if (hub) this.#toTabs?.flush();
    this.#toTabs = null;
    void this.#leadership.stepDown(false);
    void this.#channel.close();
  }

  #deliver(request: TabRequest): void {
    this.#inFlight.set(request.requestId, { request, sentAt: this.#deps.now() });
    const hub = this.#hub;
    if (hub) {
      if (this.#handling.has(request.requestId)) return;
      this.#handling.add(request.requestId);
      void hub.handleRequest(request, (reply) => this.#hub === hub && this.#emit(reply)).finally(() => this.#handling.delete(request.requestId));
    } else void this.#channel.postMessage({ kind: CoordinatorMessageKind.request, from: this.#tabId, request });
  }

  #receive(message: CoordinatorMessage): void {
    if (this.#closed) return;
    switch (message.kind) {
      case CoordinatorMessageKind.heartbeat:
      case CoordinatorMessageKind.hub:
        if (!this.#hearLeader(message.term)) return;
        if (message.kind === CoordinatorMessageKind.hub && (message.to === undefined || message.to === this.#tabId)) this.#emit(message.message);
        return;
      case CoordinatorMessageKind.request: {
        const hub = this.#hub;
        if (!hub) {
          this.#queued?.push(message);
          return;
        }
        const { requestId } = message.request;
        if (this.#handling.has(requestId)) return;
        this.#handling.add(requestId);
        // A reply from a hub that has since handed over is dropped: the request stays in flight and goes to the next leader.
        void hub
          .handleRequest(message.request, (reply) => {
            if (this.#hub === hub) this.#post({ kind: CoordinatorMessageKind.hub, term: this.#term, leaderId: this.#tabId, to: message.from, message: reply });
          })
          .finally(() => this.#handling.delete(requestId));
        return;
      }
      case CoordinatorMessageKind.extensionPresent: {
        const first = this.#heard.extensionSeenAt === null;
        this.#heard.extensionSeenAt = this.#deps.now();
        if (!first) return;
        this.#log("the extension serves this site: handing over");
        // Before anything else, so the extension's socket never finds this one to replace ("Use here").
        const hub = this.#hub;
        this.#hub = null;
        void hub?.handOver();
        if (hub) this.#deps.onRole?.(false);
        void this.#leadership.stepDown(false);
        this.#deps.onExtension?.();
        return;
      }
    }
  }

  /** A leader's message: false if it is a stale leader's. A newer leader gets every request still in flight. */
  #hearLeader(term: number): boolean {
    if (!isCurrentTerm(this.#heard, term)) return false;
    if (this.#hub && term > this.#term) {
      // Someone leads a newer term: this tab was frozen or throttled and lost the lead.
      this.#lost();
    }
    const newLeader = term > this.#heard.term;
    this.#heard.term = term;
    this.#heard.lastHeardAt = this.#deps.now();
    if (newLeader && !this.#hub) this.#resend(0);
    return true;
  }

  async #lead(): Promise<void> {
    if (this.#closed) return void this.#leadership.stepDown(false);
    const term = nextTerm(this.#heard, this.#deps.now());
    this.#term = term;
    this.#heard.term = term;
    this.#log(`leading term ${term}`);
    this.#queued = [];
    const toTabs = frameBatcher((message) => this.#post({ kind: CoordinatorMessageKind.hub, term, leaderId: this.#tabId, message }), this.#deps.timers);
    this.#toTabs = toTabs;
    const hub = await this.#deps.startHub({
      broadcast: (message) => {
        if (this.#term !== term) return;
        toTabs(message);
        this.#emit(message);
      },
      mayConnect: async () => {
        const still = this.#term === term && (await this.#leadership.confirm());
        if (!still && this.#hub === hub) this.#lost();
        return still;
      },
    });
    const queued = this.#queued ?? [];
    this.#queued = null;
    if (this.#term !== term || this.#closed || !this.#leadership.isLeader) {
      hub.abandon();
      return;
    }
    this.#hub = hub;
    // The leader is a tab: the profile is kept fresh (every `profileFreshMs`) while it leads.
    hub.setTabCount(1);
    this.#deps.onRole?.(true);
    this.#heartbeat();
    for (const message of queued) this.#receive(message);
    this.#resend(0);
  }

  /** Another tab leads now: stop this hub without a word or a write, and ask the new leader for the picture. */
  #lost(): void {
    const hub = this.#hub;
    this.#hub = null;
    this.#term = 0;
    hub?.abandon();
    if (!hub) return;
    this.#deps.onRole?.(false);
    this.#log("lost the lead; following");
    const hello: TabRequest = { kind: TabRequestKind.hello, requestId: `resync-${this.#tabId}-${++this.#resyncs}`, params: {} };
    this.post(hello);
  }

  /** Send again what waited longer than `olderThanMs` (idempotent: sends on `clientMsgId`, the rest by nature). */
  #resend(olderThanMs: number): void {
    const now = this.#deps.now();
    for (const { request, sentAt } of [...this.#inFlight.values()]) if (now - sentAt >= olderThanMs) this.#deliver(request);
  }

  #emit(message: HubMessage): void {
    if (message.kind === HubMessageKind.reply) this.#inFlight.delete(message.requestId);
    if (message.kind === HubMessageKind.snapshot) this.#answered = true;
    for (const listener of this.#listeners) listener(message);
  }

  #heartbeat(): void {
    this.#post({ kind: CoordinatorMessageKind.heartbeat, term: this.#term, leaderId: this.#tabId });
  }

  /** One timer for both roles: a leader's heartbeat, a follower's silence check. */
  #scheduleTick(): void {
    this.#tick = this.#deps.timers.setTimeout(() => {
      if (this.#closed) return;
      if (this.#hub) this.#heartbeat();
      else {
        this.#resend(RESEND_AFTER_MS);
        void this.#checkLeader();
      }
      this.#scheduleTick();
    }, HEARTBEAT_MS);
  }

  async #checkLeader(): Promise<void> {
    // Stepped down for an extension that has been silent since (uninstalled, its tab closed): stand again.
    if (!this.#leadership.isStanding && !extensionPresent(this.#heard, this.#deps.now())) this.#leadership.stand();
    if (!shouldTakeOver(this.#heard, this.#deps.now(), this.#jitterMs, true)) return;
    if (!(await this.#leadership.leaderHeld())) return; // nobody holds the lock: the election runs by itself
    if (shouldTakeOver(this.#heard, this.#deps.now(), this.#jitterMs, true)) await this.#leadership.takeOver();
  }

  /** No hub answered in time: show what the last leader stored, as reconnecting — never a blank page. */
  async #showLastKnown(): Promise<void> {
    if (this.#answered || this.#closed) return;
    const stored = await this.#deps.lastKnownSnapshot().catch(() => undefined);
    if (this.#answered || this.#closed) return;
    const snapshot = stored ?? emptySnapshot();
    this.#log("no hub answered: showing the last known state");
    this.#emit({ kind: HubMessageKind.snapshot, snapshot: { ...snapshot, state: ConnectionState.connecting } });
  }

  #post(message: CoordinatorMessage): void {
    // A closed channel throws at once rather than rejecting (a frame timer firing after `close`).
    if (this.#channel.isClosed) return;
    void this.#channel.postMessage(message).catch((error: unknown) => this.#log(`channel post failed: ${String(error)}`));
  }

  #log(message: string): void {
    this.#deps.log?.(`coordinator: ${message}`);
  }
}

/**
 * Run in a tab the extension serves: tells the origin's coordinated tabs (opened before the
 * extension was installed, so without its content script) that the extension is here, every
 * `EXTENSION_ANNOUNCE_MS`. Returns the function that stops it.
 */
export function announceExtension(timers: Timers, tabId: string = crypto.randomUUID()): () => void {
  const channel = new BroadcastChannel<CoordinatorMessage>(COORDINATOR_CHANNEL_NAME);
  let timer: unknown = null;
  const announce = () => {
    void channel.postMessage({ kind: CoordinatorMessageKind.extensionPresent, from: tabId }).catch(() => undefined);
    timer = timers.setTimeout(announce, EXTENSION_ANNOUNCE_MS);
  };
  announce();
  return () => {
    timers.clearTimeout(timer);
    void channel.close();
  };
}
