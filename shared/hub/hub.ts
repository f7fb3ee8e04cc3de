import { RefreshTransport, RestPath, WS_PATH_PREFIX, type ChatMessage } from "../protocol/index.js";
import { ConnectionState } from "../sdk/connection-state.js";
import { mergeConversations, withRead, type UserRow } from "../sdk/conversations.js";
import type { OutboxEntry } from "../sdk/outbox-entry.js";
import { HubMessageKind, TabRequestKind, type BatchedHubMessage, type HubMessage, type TabRequest, type TabRequestMap } from "../sdk/hub-messages.js";
import { emptySnapshot, type Conversation, type Snapshot } from "../sdk/snapshot.js";
import { Api, ApiError } from "./api.js";
import { Connection, type SocketConstructor, type Timers } from "./connection.js";
import { EventStream } from "./event-stream.js";
import type { KeyValueArea } from "./key-value-area.js";
import { MessageSender } from "./message-sender.js";
import { Outbox, OUTBOX_KEY } from "./outbox.js";
import { OUTBOX_MAX_AGE_MS, OUTBOX_MAX_MESSAGES } from "./outbox-queue.js";
import { ProfileKeeper } from "./profile-keeper.js";
import { ReadMarker } from "./read-marker.js";
import { wsUrlFor, type HubSettings } from "./settings.js";
import { SnapshotKeeper } from "./snapshot-keeper.js";
import type { TokenKeeper } from "./token-keeper.js";

/** What a hub needs from the place it runs in (so the same hub runs in the worker, in a tab and in Node tests): injected by each home's adapter. */
export interface HubWorld {
  WebSocket: SocketConstructor;
  timers: Timers;
  random: () => number;
  isOnline: () => boolean;
  fetch: typeof fetch;
  now: () => number;
}

export interface HubDeps {
  world: HubWorld;
  /** Where the snapshot and stream position survive a restart of the home (`storage.session`, IndexedDB). */
  snapshotArea: KeyValueArea;
  /**
   * Where unsent messages survive a browser restart (`storage.local`, IndexedDB): local, never
   * session storage. @default snapshotArea
   */
  outboxArea?: KeyValueArea;
  tokens: TokenKeeper;
  settings: HubSettings;
  /** Fan-out to every tab (the home batches per frame). */
  broadcast: (message: BatchedHubMessage) => void;
  /** The toolbar badge (extension only). */
  setBadge?: (count: number) => void;
  /**
   * Asked before every socket is opened; false → this home is no longer the hub's (a web-app
   * leader that lost its election while frozen) and must not connect. @default always true
   */
  mayConnect?: () => Promise<boolean>;
  log?: (message: string) => void;
}

type Reply = (message: HubMessage) => void;

/**
 * The brain of a browser's one connection, in either home — the extension's service worker or
 * the elected web-app tab. It answers tab requests and wires the pieces: `Connection` (the
 * socket), `EventStream` (frames, resume), `MessageSender` (sends, acks, REST fallback),
 * `ProfileKeeper` (freshness), `ReadMarker` (one read call for many tabs) and `SnapshotKeeper`
 * (the snapshot, persisted and broadcast).
 */
export class Hub {
  readonly #deps: HubDeps;
  readonly #api: Api;
  readonly #connection: Connection;
  readonly #keeper: SnapshotKeeper;
  readonly #profile: ProfileKeeper;
  readonly #sender: MessageSender;
  readonly #outbox: Outbox;
  readonly #stream: EventStream;
  readonly #reads: ReadMarker;
  /**
   * History loads in flight, by user and peer: tabs showing one conversation reload it together
   * (after a refetch's snapshot), and share one GET. A tab asking later gets a newer load; what was
   * pushed meanwhile reaches every tab through the snapshot's `recent`.
   */
  readonly #historyLoads = new Map<string, Promise<ChatMessage[]>>();

  private constructor(deps: HubDeps, snapshot: Snapshot, outboxEntries: OutboxEntry[]) {
    this.#deps = deps;
    const { timers, now } = deps.world;
    const log = (message: string) => this.#log(message);
    this.#keeper = new SnapshotKeeper({ area: deps.snapshotArea, timers, broadcast: deps.broadcast, setBadge: deps.setBadge }, snapshot);
    this.#api = new Api({
      fetch: deps.world.fetch,
      serverUrl: deps.settings.serverUrl,
      tokens: deps.tokens,
      mayHaveSession: () => this.#keeper.snapshot.user !== null,
      onAuthLost: () => this.#connection.stop(ConnectionState.authRequired),
      onSessionEnded: () => {
        this.#connection.stop(ConnectionState.signedOut);
        void this.#outbox.clear();
        this.#keeper.apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
      },
    });
    this.#connection = new Connection(
      {
        WebSocket: deps.world.WebSocket,
        timers,
        random: deps.world.random,
        isOnline: deps.world.isOnline,
        now,
        credentials: async () => {
          // A false answer comes with `abandon()`, which makes this attempt stale (its result is ignored).
          if (deps.mayConnect && !(await deps.mayConnect())) return null;
          const tokens = await this.#api.tokens();
          return (
            tokens && {
              url: wsUrlFor(this.#api.serverUrl, tokens.user.id, WS_PATH_PREFIX),
              accessToken: tokens.accessToken,
              resumeFrom: this.#stream.upgradeCursor(tokens.user.id),
            }
          );
        },
        refresh: () => this.#api.refresh(),
        // The server revoked the session: drop the tokens (no logout call, it is done) and the snapshot.
        onSessionEnded: () => {
          void this.#api.forget();
          void this.#outbox.clear();
          this.#keeper.apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
        },
        onState: (next) => {
          this.#keeper.apply({ kind: HubMessageKind.state, state: next });
          if (next === ConnectionState.open) this.#outbox.onConnected();
        },
        onFrame: (frame) => void this.#stream.onFrame(frame).catch((error) => this.#log(`frame handling failed: ${String(error)}`)),
        log: deps.log,
      },
      snapshot.state,
      { keepaliveMs: deps.settings.keepaliveMs, backoffBaseMs: deps.settings.backoffBaseMs },
    );
    const sendFrame = this.#connection.send.bind(this.#connection);
    this.#profile = new ProfileKeeper({ api: this.#api, keeper: this.#keeper, timers, now, freshMs: deps.settings.profileFreshMs, log });
    this.#sender = new MessageSender({ api: this.#api, keeper: this.#keeper, timers, now, sendFrame });
    this.#outbox = new Outbox(
      {
        area: deps.outboxArea ?? deps.snapshotArea,
        sender: this.#sender,
        keeper: this.#keeper,
        timers,
        now,
        random: deps.world.random,
        userId: () => this.#keeper.snapshot.user?.id ?? null,
        bounds: {
          maxMessages: deps.settings.outboxMaxMessages ?? OUTBOX_MAX_MESSAGES,
          maxAgeMs: deps.settings.outboxMaxAgeMs ?? OUTBOX_MAX_AGE_MS,
        },
        backoffBaseMs: deps.settings.backoffBaseMs,
        log,
      },
      outboxEntries,
    );
    this.#stream = new EventStream({ keeper: this.#keeper, sender: this.#sender, profile: this.#profile, sendFrame, refetch: () => this.#refetch() });
    this.#reads = new ReadMarker(async (peerId, upToMessageId) => {
      const response = await this.#api.request<{ unread_count: number }>(RestPath.messagesRead, { method: "POST", body: { peerId, upToMessageId } });
      this.#keeper.apply({ kind: HubMessageKind.conversations, conversations: withRead(this.#keeper.snapshot.conversations, peerId) });
      this.#keeper.apply({ kind: HubMessageKind.unread, count: response.body.unread_count });
      return response.body.unread_count;
    });
  }

  /** Rebuild from storage (a restarted home starts warm) and start connecting unless parked. */
  static async start(deps: HubDeps): Promise<Hub> {
    const stored = await SnapshotKeeper.load(deps.snapshotArea);
    const tokens = await deps.tokens.load();
    // With the cookie transport a new home has no token in memory: the stored user says a cookie may be there.
    const user = tokens?.user ?? (deps.tokens.refreshTransport === RefreshTransport.cookie ? (stored?.user ?? null) : null);
    let snapshot = stored ?? emptySnapshot();
    if (!user) snapshot = emptySnapshot();
    else if (snapshot.user?.id !== user.id) snapshot = { ...emptySnapshot(), state: ConnectionState.connecting, user };
    else if (snapshot.state === ConnectionState.signedOut) snapshot = { ...snapshot, state: ConnectionState.connecting };
    // Unsent messages outlive a sign-in change only for the same user (the queue is theirs).
    const outboxArea = deps.outboxArea ?? deps.snapshotArea;
    const outboxEntries = user ? await Outbox.read(outboxArea, user.id) : [];
    if (outboxEntries.length === 0) await outboxArea.remove(OUTBOX_KEY);
    snapshot = { ...snapshot, outbox: outboxEntries };
    const hub = new Hub(deps, snapshot, outboxEntries);
    deps.setBadge?.(snapshot.unread);
    hub.#connection.start();
    // Sent over REST even before the socket opens; each success or failure drains again.
    hub.#outbox.drain();
    return hub;
  }

  get snapshot(): Snapshot {
    return this.#keeper.snapshot;
  }

  /** Stop for good (the server URL changed): sign out, since tokens belong to the old server. */
  async dispose(): Promise<void> {
    this.#connection.stop(ConnectionState.signedOut);
    this.#profile.stop();
    this.#outbox.stop();
    this.#sender.stop();
    await this.#api.logout();
    this.#keeper.apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
  }

  /**
   * Hand over to the next home (this tab closes, loses its election, or the extension takes
   * over): close the socket, write the snapshot and position for the next hub, and go quiet —
   * no state change reaches the tabs. The session stays signed in.
   */
  async handOver(): Promise<void> {
    this.#connection.halt();
    this.#profile.stop();
    this.#outbox.stop();
    this.#sender.stop();
    await this.#keeper.stop({ flush: true });
  }

  /**
   * Stop at once without a word or a write: another home took over while this one could not
   * run (a frozen tab). Its snapshot in storage is the new hub's now.
   */
  abandon(): void {
    this.#connection.halt();
    this.#profile.stop();
    this.#outbox.stop();
    this.#sender.stop();
    void this.#keeper.stop({ flush: false });
  }

  setOnline(online: boolean): void {
    this.#connection.setOnline(online);
  }

  /** The number of open tabs changed: the profile is only kept fresh while one is open. */
  setTabCount(count: number): void {
    this.#profile.setTabCount(count);
  }

  async handleRequest(request: TabRequest, reply: Reply): Promise<void> {
    try {
      const result = await this.#handle(request, reply);
      reply({ kind: HubMessageKind.reply, requestId: request.requestId, ok: true, result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reply({ kind: HubMessageKind.reply, requestId: request.requestId, ok: false, error: message });
    }
  }

  async #handle(request: TabRequest, reply: Reply): Promise<TabRequestMap[TabRequest["kind"]]["result"]> {
    const keeper = this.#keeper;
    switch (request.kind) {
      case TabRequestKind.hello:
        reply({ kind: HubMessageKind.snapshot, snapshot: keeper.snapshot });
        void this.#profile.refreshIfStale();
        return keeper.snapshot;
      case TabRequestKind.signIn: {
        const previousUser = keeper.snapshot.user?.id ?? null;
        const tokens = await this.#api.login(request.params.username, request.params.password);
        // Signing in again as the same user (after `auth-required`) keeps what waits to be sent.
        if (previousUser !== tokens.user.id) await this.#outbox.clear();
        const snapshot = { ...emptySnapshot(), state: keeper.snapshot.state, user: tokens.user, outbox: [...this.#outbox.entries] };
        keeper.apply({ kind: HubMessageKind.snapshot, snapshot });
        // The first `welcome` (no resume position yet) fetches profile, unread and conversations.
        this.#connection.connectNow();
        return null;
      }
      case TabRequestKind.signOut:
        this.#connection.stop(ConnectionState.signedOut);
        // Nothing of the user is kept from here on: the tabs and storage get the empty snapshot in
        // the same task as the signed-out state, not after the logout request's round trip (a tab
        // closed meanwhile would have left the user's messages in origin storage).
        keeper.apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
        await this.#outbox.clear();
        await this.#api.logout();
        return null;
      case TabRequestKind.useHere:
        if ((await this.#api.tokens()) === null) throw new Error("Sign in first.");
        this.#connection.connectNow();
        return null;
      case TabRequestKind.send:
        // Resolved once stored: the tab follows the message's real state through the snapshot's outbox.
        return this.#outbox.add(request.params.to, request.params.body, request.params.clientMsgId);
      case TabRequestKind.retrySend:
        await this.#outbox.retry(request.params.clientMsgId);
        return null;
      case TabRequestKind.discardSend:
        await this.#outbox.discard(request.params.clientMsgId);
        return null;
      case TabRequestKind.markRead:
        return this.#reads.mark(request.params.peerId, request.params.upToMessageId);
      case TabRequestKind.loadMessages:
        return this.#loadHistory(request.params.peerId);
      case TabRequestKind.updateProfile: {
        return this.#profile.update(request.params);
      }
    }
  }

  #loadHistory(peerId: number): Promise<ChatMessage[]> {
    const key = `${this.#keeper.snapshot.user?.id ?? 0}:${peerId}`;
    const inFlight = this.#historyLoads.get(key);
    if (inFlight) return inFlight;
    const query = new URLSearchParams({ peerId: String(peerId), limit: "50" });
    const load = this.#api
      .request<{ messages: ChatMessage[] }>(`${RestPath.messages}?${query}`)
      .then((response) => response.body.messages)
      .finally(() => this.#historyLoads.delete(key));
    this.#historyLoads.set(key, load);
    return load;
  }

  /** After a gap the event stream cannot fill: unread count, profile (conditionally), conversations. */
  async #refetch(): Promise<void> {
    const results = await Promise.allSettled([this.#fetchUnread(), this.#profile.fetch(false), this.#fetchConversations()]);
    for (const result of results) if (result.status === "rejected") this.#log(`refetch: ${String(result.reason)}`);
    // A full snapshot tells open tabs to reload the conversations they show.
    this.#keeper.apply({ kind: HubMessageKind.snapshot, snapshot: this.#keeper.snapshot });
  }

  async #fetchUnread(): Promise<void> {
    const response = await this.#api.request<{ unread_count: number }>(RestPath.unreadCount);
    this.#keeper.apply({ kind: HubMessageKind.unread, count: response.body.unread_count });
  }

  async #fetchConversations(): Promise<void> {
    const me = this.#keeper.snapshot.user?.id ?? 0;
    const [users, rows] = await Promise.all([
      this.#api.request<{ users: UserRow[] }>(RestPath.users).then((r) => r.body.users),
      this.#api
        .request<{ conversations: Conversation[] }>(`${RestPath.messages}/conversations`)
        .then((r) => r.body.conversations)
        .catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return [];
          throw error;
        }),
    ]);
    this.#keeper.apply({ kind: HubMessageKind.conversations, conversations: mergeConversations(me, users, rows) });
  }

  #log(message: string): void {
    this.#deps.log?.(`hub: ${message}`);
  }
}
