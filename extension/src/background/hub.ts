import {
  ClientFrameType,
  EventKind,
  FrameErrorCode,
  RestPath,
  ServerFrameType,
  WS_PATH_PREFIX,
  type ChatEvent,
  type ChatMessage,
  type Profile,
  type ServerFrame,
  type WelcomeFrame,
} from "../../../shared/protocol/index.js";
import { applyHubMessage } from "../../../shared/sdk/apply-hub-message.js";
import { ConnectionState } from "../../../shared/sdk/connection-state.js";
import {
  HubMessageKind,
  TabRequestKind,
  type BatchedHubMessage,
  type HubMessage,
  type TabRequest,
  type TabRequestMap,
} from "../../../shared/sdk/hub-messages.js";
import { emptySnapshot, type Conversation, type Snapshot } from "../../../shared/sdk/snapshot.js";
import { Api, ApiError, AUTH_KEY, type AuthTokens } from "./api.js";
import { Connection, type ConnectionDeps } from "./connection.js";
import { mergeConversations, withRead, type UserRow } from "../../../shared/sdk/conversations.js";
import { wsUrlFor, type Settings } from "./settings.js";
import type { KeyValueArea } from "./storage.js";

export const SNAPSHOT_KEY = "snapshot";
/** How long a `send` waits for its `ack` before falling back to the idempotent REST send. */
const ACK_TIMEOUT_MS = 5000;
/** How long a position-only change may wait for the next snapshot write (see `#setPosition`). */
const POSITION_PERSIST_MS = 1000;

export interface HubDeps {
  socket: Pick<ConnectionDeps, "WebSocket" | "timers" | "random" | "isOnline">;
  fetch: typeof fetch;
  /** `storage.session`: the snapshot, so a killed worker restarts warm. */
  session: KeyValueArea;
  /** `storage.local`: tokens. */
  local: KeyValueArea;
  settings: Settings;
  /** Fan-out to every tab (BroadcastChannel + content-script ports; the worker batches per frame). */
  broadcast: (message: BatchedHubMessage) => void;
  setBadge: (count: number) => void;
  now: () => number;
  log?: (message: string) => void;
}

type Reply = (message: HubMessage) => void;

interface PendingSend {
  to: number;
  body: string;
  resolve(message: ChatMessage): void;
  reject(error: Error): void;
  timer: unknown;
}

/**
 * The service worker's brain: owns the connection, the profile cache, the unread count and the
 * snapshot, and answers tab requests. Every change goes through `#apply`, which reduces, persists
 * and broadcasts, so tabs and `storage.session` always agree.
 */
export class Hub {
  readonly #deps: HubDeps;
  readonly #api: Api;
  readonly #connection: Connection;
  #snapshot: Snapshot;
  #welcome: WelcomeFrame | null = null;
  #pendingSends = new Map<string, PendingSend>();
  #tabs = 0;
  #profileTimer: unknown = null;
  #persistQueued = false;
  #positionTimer: unknown = null;
  #profileFetch: Promise<void> | null = null;

  private constructor(deps: HubDeps, snapshot: Snapshot) {
    this.#deps = deps;
    this.#snapshot = snapshot;
    this.#api = new Api({
      fetch: deps.fetch,
      serverUrl: deps.settings.serverUrl,
      local: deps.local,
      onAuthLost: () => this.#connection.stop(ConnectionState.authRequired),
      onSessionEnded: () => {
        this.#connection.stop(ConnectionState.signedOut);
        this.#apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
      },
    });
    this.#connection = new Connection(
      {
        ...deps.socket,
        credentials: async () => {
          const tokens = await this.#api.tokens();
          return tokens && { url: wsUrlFor(this.#api.serverUrl, tokens.user.id, WS_PATH_PREFIX), accessToken: tokens.accessToken };
        },
        refresh: () => this.#api.refresh(),
        // The server revoked the session: drop the tokens (no logout call, it is done) and the snapshot.
        onSessionEnded: () => {
          void this.#api.forget();
          this.#apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
        },
        onState: (next) => this.#apply({ kind: HubMessageKind.state, state: next }),
        onFrame: (frame) => void this.#onFrame(frame).catch((error) => this.#log(`frame handling failed: ${String(error)}`)),
        log: deps.log,
      },
      snapshot.state,
      { keepaliveMs: deps.settings.keepaliveMs, backoffBaseMs: deps.settings.backoffBaseMs },
    );
  }

  /** Rebuild from storage (a restarted worker starts warm) and start connecting unless parked. */
  static async start(deps: HubDeps): Promise<Hub> {
    const stored = (await deps.session.get(SNAPSHOT_KEY)) as Snapshot | undefined;
    const tokens = (await deps.local.get(AUTH_KEY)) as AuthTokens | undefined;
    let snapshot = stored ?? emptySnapshot();
    if (!tokens) snapshot = emptySnapshot();
    else if (snapshot.user?.id !== tokens.user.id) snapshot = { ...emptySnapshot(), state: ConnectionState.connecting, user: tokens.user };
    else if (snapshot.state === ConnectionState.signedOut) snapshot = { ...snapshot, state: ConnectionState.connecting };
    const hub = new Hub(deps, snapshot);
    deps.setBadge(snapshot.unread);
    hub.#connection.start();
    return hub;
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Stop for good (the server URL changed): sign out, since tokens belong to the old server. */
  async dispose(): Promise<void> {
    this.#connection.stop(ConnectionState.signedOut);
    this.#deps.socket.timers.clearTimeout(this.#profileTimer);
    this.#deps.socket.timers.clearTimeout(this.#positionTimer);
    await this.#api.logout();
    this.#apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
  }

  setOnline(online: boolean): void {
    this.#connection.setOnline(online);
  }

  /** The number of open tabs changed: the profile is only kept fresh while one is open. */
  setTabCount(count: number): void {
    this.#tabs = count;
    if (count > 0) this.#scheduleProfileRefresh();
    else this.#deps.socket.timers.clearTimeout(this.#profileTimer);
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
    switch (request.kind) {
      case TabRequestKind.hello:
        reply({ kind: HubMessageKind.snapshot, snapshot: this.#snapshot });
        void this.#refreshProfileIfStale();
        return this.#snapshot;
      case TabRequestKind.signIn: {
        const tokens = await this.#api.login(request.params.username, request.params.password);
        this.#apply({ kind: HubMessageKind.snapshot, snapshot: { ...emptySnapshot(), state: this.#snapshot.state, user: tokens.user } });
        // The first `welcome` (no resume position yet) fetches profile, unread and conversations.
        this.#connection.connectNow();
        return null;
      }
      case TabRequestKind.signOut:
        this.#connection.stop(ConnectionState.signedOut);
        await this.#api.logout();
        this.#apply({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
        return null;
      case TabRequestKind.useHere:
        if ((await this.#api.tokens()) === null) throw new Error("Sign in first.");
        this.#connection.connectNow();
        return null;
      case TabRequestKind.send:
        return this.#sendMessage(request.params.to, request.params.body, request.params.clientMsgId);
      case TabRequestKind.markRead: {
        const { peerId, upToMessageId } = request.params;
        const response = await this.#api.request<{ unread_count: number }>(RestPath.messagesRead, { method: "POST", body: { peerId, upToMessageId } });
        this.#apply({ kind: HubMessageKind.conversations, conversations: withRead(this.#snapshot.conversations, peerId) });
        this.#apply({ kind: HubMessageKind.unread, count: response.body.unread_count });
        return response.body.unread_count;
      }
      case TabRequestKind.loadMessages: {
        const query = new URLSearchParams({ peerId: String(request.params.peerId), limit: "50" });
        const response = await this.#api.request<{ messages: ChatMessage[] }>(`${RestPath.messages}?${query}`);
        return response.body.messages;
      }
      case TabRequestKind.updateProfile: {
        const response = await this.#api.request<Profile>(RestPath.profileMe, { method: "PATCH", body: request.params });
        this.#storeProfile(response.body, response.headers.get("etag"));
        return response.body;
      }
    }
  }

  async #onFrame(frame: ServerFrame): Promise<void> {
    switch (frame.type) {
      case ServerFrameType.welcome: {
        this.#welcome = frame;
        const { epoch, seq, user } = this.#snapshot;
        if (epoch !== null && user?.id === frame.userId) {
          this.#connection.send({ type: ClientFrameType.resume, epoch, seq });
        } else {
          this.#setPosition(frame.epoch, frame.seq);
          await this.#refetch();
        }
        return;
      }
      case ServerFrameType.resumed:
        if (frame.recovered) {
          if (frame.epoch !== undefined && frame.seq !== undefined) this.#setPosition(frame.epoch, frame.seq);
          return;
        }
        this.#setPosition(frame.epoch ?? this.#welcome?.epoch ?? null, frame.seq ?? this.#welcome?.seq ?? 0);
        await this.#refetch();
        return;
      case ServerFrameType.event: {
        const { epoch, seq } = this.#snapshot;
        if (frame.epoch === epoch && frame.seq <= seq) return; // already seen (replay overlap)
        this.#setPosition(frame.epoch, frame.seq);
        await this.#onEvent(frame.event);
        return;
      }
      case ServerFrameType.ack: {
        const pending = this.#pendingSends.get(frame.clientMsgId);
        const message = frame.message ?? (pending && this.#messageFromAck(frame.clientMsgId, frame.messageId, pending));
        if (message) this.#acked(frame.clientMsgId, message);
        return;
      }
      case ServerFrameType.error:
        if (frame.clientMsgId) {
          const pending = this.#pendingSends.get(frame.clientMsgId);
          this.#pendingSends.delete(frame.clientMsgId);
          this.#deps.socket.timers.clearTimeout(pending?.timer);
          pending?.reject(new Error(frame.message));
        } else if (frame.code === FrameErrorCode.unknownType && this.#welcome) {
          // A server without history does not know `resume`: refetch over REST instead.
          this.#setPosition(this.#welcome.epoch, this.#welcome.seq);
          await this.#refetch();
        }
        return;
      case ServerFrameType.pong:
        return;
    }
  }

  async #onEvent(event: ChatEvent): Promise<void> {
    switch (event.kind) {
      case EventKind.message:
        this.#apply({ kind: HubMessageKind.message, message: event.message });
        return;
      case EventKind.unread:
        this.#apply({ kind: HubMessageKind.unread, count: event.count });
        return;
      case EventKind.profile: {
        if (event.etag === this.#snapshot.profileEtag) return;
        // A fetch already in flight may have left before the change: then fetch once more.
        const joined = this.#profileFetch !== null;
        await this.#fetchProfile(true);
        if (joined) await this.#fetchProfile(true);
        return;
      }
    }
  }

  async #sendMessage(to: number, body: string, clientMsgId: string): Promise<ChatMessage> {
    const viaSocket = new Promise<ChatMessage>((resolve, reject) => {
      const timer = this.#deps.socket.timers.setTimeout(() => {
        this.#pendingSends.delete(clientMsgId);
        reject(new Error("ack timeout"));
      }, ACK_TIMEOUT_MS);
      this.#pendingSends.set(clientMsgId, { to, body, resolve, reject, timer });
    });
    if (this.#connection.send({ type: ClientFrameType.send, clientMsgId, to, body })) {
      try {
        return await viaSocket;
      } catch (error) {
        if (error instanceof Error && error.message !== "ack timeout") throw error;
      }
    } else {
      const pending = this.#pendingSends.get(clientMsgId);
      this.#deps.socket.timers.clearTimeout(pending?.timer);
      this.#pendingSends.delete(clientMsgId);
      viaSocket.catch(() => undefined);
    }
    // Not connected (or no ack in time): REST is idempotent on clientMsgId, so this cannot duplicate.
    const response = await this.#api.request<{ message: ChatMessage }>(RestPath.messages, { method: "POST", body: { to, body, clientMsgId } });
    this.#acked(clientMsgId, response.body.message);
    return response.body.message;
  }

  #messageFromAck(clientMsgId: string, messageId: number, pending: PendingSend): ChatMessage {
    const from = this.#snapshot.user?.id ?? 0;
    return { id: messageId, from, to: pending.to, body: pending.body, clientMsgId, createdAt: new Date(this.#deps.now()).toISOString(), readAt: null };
  }

  #acked(clientMsgId: string, message: ChatMessage): void {
    const pending = this.#pendingSends.get(clientMsgId);
    this.#pendingSends.delete(clientMsgId);
    this.#deps.socket.timers.clearTimeout(pending?.timer);
    this.#apply({ kind: HubMessageKind.ack, clientMsgId, message });
    pending?.resolve(message);
  }

  /** After a gap the event stream cannot fill: unread count, profile (conditionally), conversations. */
  async #refetch(): Promise<void> {
    const results = await Promise.allSettled([this.#fetchUnread(), this.#fetchProfile(false), this.#fetchConversations()]);
    for (const result of results) if (result.status === "rejected") this.#log(`refetch: ${String(result.reason)}`);
    // A full snapshot tells open tabs to reload the conversations they show.
    this.#apply({ kind: HubMessageKind.snapshot, snapshot: this.#snapshot });
  }

  async #fetchUnread(): Promise<void> {
    const response = await this.#api.request<{ unread_count: number }>(RestPath.unreadCount);
    this.#apply({ kind: HubMessageKind.unread, count: response.body.unread_count });
  }

  async #fetchConversations(): Promise<void> {
    const me = this.#snapshot.user?.id ?? 0;
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
    this.#apply({ kind: HubMessageKind.conversations, conversations: mergeConversations(me, users, rows) });
  }

  /** Single-flight: twenty tabs opening at once still make one request. */
  #fetchProfile(bypassCache: boolean): Promise<void> {
    this.#profileFetch ??= this.#requestProfile(bypassCache).finally(() => (this.#profileFetch = null));
    return this.#profileFetch;
  }

  /** Conditional GET with the stored ETag; `bypassCache` after a `profile` event. */
  async #requestProfile(bypassCache: boolean): Promise<void> {
    const etag = this.#snapshot.profileEtag;
    const headers: Record<string, string> = etag && this.#snapshot.profile ? { "if-none-match": etag } : {};
    const response = await this.#api.request<Profile>(RestPath.profileMe, { headers, bypassCache });
    if (response.status === 304) {
      this.#snapshot = { ...this.#snapshot, profileCheckedAt: this.#deps.now() };
      void this.#persist();
      return;
    }
    this.#storeProfile(response.body, response.headers.get("etag"));
  }

  #storeProfile(profile: Profile, etag: string | null): void {
    this.#snapshot = { ...this.#snapshot, profileEtag: etag, profileCheckedAt: this.#deps.now() };
    this.#apply({ kind: HubMessageKind.profile, profile });
  }

  async #refreshProfileIfStale(): Promise<void> {
    if (this.#snapshot.user === null || this.#deps.now() - this.#snapshot.profileCheckedAt < this.#deps.settings.profileFreshMs) return;
    await this.#fetchProfile(false).catch((error) => this.#log(`profile refresh: ${String(error)}`));
  }

  #scheduleProfileRefresh(): void {
    const timers = this.#deps.socket.timers;
    timers.clearTimeout(this.#profileTimer);
    const age = this.#deps.now() - this.#snapshot.profileCheckedAt;
    const wait = Math.max(1000, this.#deps.settings.profileFreshMs - age);
    this.#profileTimer = timers.setTimeout(async () => {
      if (this.#tabs === 0) return;
      await this.#refreshProfileIfStale();
      this.#scheduleProfileRefresh();
    }, wait);
  }

  /**
   * A new stream position alone is written lazily: an event that changes anything is persisted at
   * once through `#apply` (with this position), so what waits here only ever covers events that
   * changed nothing (the server's confirming `unread` after each message). Losing it to a killed
   * worker means those are replayed on resume, which changes nothing either. Saves one
   * `storage.session` write (~15 KB through the browser process) per message.
   */
  #setPosition(epoch: string | null, seq: number): void {
    this.#snapshot = { ...this.#snapshot, epoch, seq };
    this.#positionTimer ??= this.#deps.socket.timers.setTimeout(() => {
      this.#positionTimer = null;
      void this.#persist();
    }, POSITION_PERSIST_MS);
  }

  #apply(message: BatchedHubMessage): void {
    // The server's count confirming what a message event already counted: nothing to tell the tabs.
    if (message.kind === HubMessageKind.unread && message.count === this.#snapshot.unread) return;
    const previousUnread = this.#snapshot.unread;
    this.#snapshot = applyHubMessage(this.#snapshot, message);
    this.#deps.broadcast(message);
    void this.#persist();
    if (this.#snapshot.unread !== previousUnread || message.kind === HubMessageKind.snapshot) this.#deps.setBadge(this.#snapshot.unread);
  }

  /** One `storage.session` write per burst of changes (a task), always of the latest snapshot. */
  async #persist(): Promise<void> {
    // This write carries the latest position too.
    this.#deps.socket.timers.clearTimeout(this.#positionTimer);
    this.#positionTimer = null;
    if (this.#persistQueued) return;
    this.#persistQueued = true;
    await Promise.resolve();
    this.#persistQueued = false;
    await this.#deps.session.set(SNAPSHOT_KEY, this.#snapshot);
  }

  #log(message: string): void {
    this.#deps.log?.(`hub: ${message}`);
  }
}
