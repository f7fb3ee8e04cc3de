import {
  BACKOFF_RESET_AFTER_MS,
  BEARER_PROTOCOL_PREFIX,
  backoff,
  CloseAction,
  closeAction,
  ClientFrameType,
  CloseCode,
  CloseReason,
  isServiceRestart,
  isSessionEnded,
  parseServerFrame,
  RATE_LIMITED_RECONNECT_MIN_MS,
  restartJitter,
  resumeProtocol,
  ServerFrameType,
  SUBPROTOCOL,
  type ClientFrame,
  type ServerFrame,
  type UpgradeCursor,
} from "../protocol/index.js";
import { ConnectionState, isParked } from "../sdk/connection-state.js";

/** The browser `WebSocket` surface used here; Node tests inject the `ws` package's class. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketConstructor = new (url: string, protocols: string[]) => SocketLike;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ConnectionOptions {
  /** Application `{"type":"ping"}` period; Chrome keeps the worker alive only for data frames. @default 20000 */
  keepaliveMs?: number;
  /** No frame of any kind for this many keepalive periods → the link is dead. @default 2.5 */
  deadAfterIntervals?: number;
  /** Passed to `backoff()` (shared/protocol). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Reset the attempt counter only after a socket stayed open this long. @default BACKOFF_RESET_AFTER_MS */
  resetAttemptsAfterMs?: number;
  /** The shortest delay before reconnecting after `4029 Rate limited`. @default RATE_LIMITED_RECONNECT_MIN_MS */
  rateLimitedMinDelayMs?: number;
}

export interface Credentials {
  /** `ws(s)://host/ws/chat/{userId}` */
  url: string;
  accessToken: string;
  /** Where to resume, offered in the upgrade (`resume.{epoch}.{seq}`): the replay then needs no `resume` frame. */
  resumeFrom?: UpgradeCursor;
}

export interface ConnectionDeps {
  WebSocket: SocketConstructor;
  timers: Timers;
  random: () => number;
  isOnline: () => boolean;
  /**
   * The clock. A timer in a throttled background tab fires late, so the dead-link check asks the
   * clock how long the link really was silent instead of trusting that the timer ran on time.
   * @default Date.now
   */
  now?: () => number;
  /** The current credentials, or null when signed out. */
  credentials: () => Promise<Credentials | null>;
  /** Refresh the access token (rotation): `login` when the user must sign in again, `retry` on a network failure. */
  refresh: () => Promise<RefreshOutcome>;
  /**
   * The server ended this session (logout here or on another device, "log out everywhere"): the
   * credentials are revoked and must be forgotten before the state becomes `signed-out`.
   */
  onSessionEnded?: () => void;
  onState: (next: ConnectionState, previous: ConnectionState) => void;
  /** Every server frame except `pong`, from the current socket only. */
  onFrame: (frame: ServerFrame) => void;
  log?: (message: string) => void;
}

export type RefreshOutcome = "refreshed" | "login" | "retry";

const OPEN = 1;
/** The longest wait between two checks of `isOnline()` while offline. */
export const ONLINE_PROBE_MAX_MS = 5000;
/**
 * How long a link check waits for any frame after its ping. A check runs when the browser says it
 * went offline while a socket is open; a round trip takes milliseconds, so 3 s only fails a link
 * that is gone.
 */
export const LINK_CHECK_MS = 3000;

/**
 * The one connection of this browser. A state machine changed only through `setState`; every
 * socket gets a generation and callbacks from an older one are ignored (a late callback of a replaced socket must not change the state);
 * what to do after a close comes from `closeAction()` in shared/protocol.
 */
export class Connection {
  readonly #deps: ConnectionDeps;
  readonly #keepaliveMs: number;
  readonly #deadAfterMs: number;
  readonly #options: ConnectionOptions;
  #state: ConnectionState;
  #generation = 0;
  #attempt = 0;
  #socket: SocketLike | null = null;
  #keepaliveTimer: unknown = null;
  #deadTimer: unknown = null;
  #retryTimer: unknown = null;
  #stableTimer: unknown = null;
  #linkCheckTimer: unknown = null;
  #onlineProbeTimer: unknown = null;
  #onlineProbeAttempt = 0;
  /** Clock time of the last frame on the current socket, and of the oldest ping sent since. */
  #lastFrameAt = 0;
  #pingUnansweredSince: number | null = null;

  constructor(deps: ConnectionDeps, initialState: ConnectionState, options: ConnectionOptions = {}) {
    this.#deps = deps;
    this.#state = initialState;
    this.#options = options;
    this.#keepaliveMs = options.keepaliveMs ?? 20_000;
    this.#deadAfterMs = this.#keepaliveMs * (options.deadAfterIntervals ?? 2.5);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get generation(): number {
    return this.#generation;
  }

  /**
   * Start after a (re)start of the worker. A parked state (signed out, replaced, auth required)
   * stays parked: a restarted worker must never take the connection back from another browser.
   */
  start(): void {
    if (isParked(this.#state)) return;
    this.#connect();
  }

  /** Connect now, whatever the state: "Use here", a fresh sign-in, or coming back online. */
  connectNow(): void {
    this.#attempt = 0;
    this.#connect();
  }

  /**
   * Close the socket without a state change: this home hands the connection over to another
   * (the next leader tab, the extension). Whatever state the tabs saw stays until the next home speaks.
   */
  halt(): void {
    this.#stopOnlineProbe();
    this.#dropSocket(CloseCode.normal, CloseReason.handedOver);
  }

  /** Close for good (sign-out) or park in `next`. */
  stop(next: ConnectionState = ConnectionState.signedOut): void {
    this.#dropSocket(CloseCode.normal, CloseReason.signedOut);
    this.#setState(next);
  }

  /** Send a client frame on the open socket; false when there is none. */
  send(frame: ClientFrame): boolean {
    if (this.#state !== ConnectionState.open || !this.#socket || this.#socket.readyState !== OPEN) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** The browser went offline/online (`offline`/`online` events of a page, or of the worker where it gets them). */
  setOnline(online: boolean): void {
    if (!online && (this.#state === ConnectionState.backoff || this.#state === ConnectionState.connecting)) {
      this.#dropSocket();
      this.#setState(ConnectionState.offline);
    } else if (!online && this.#state === ConnectionState.open) {
      this.#checkLink();
    } else if (online && this.#state === ConnectionState.offline) {
      this.#connect();
    }
  }

  #setState(next: ConnectionState): void {
    const previous = this.#state;
    if (next === ConnectionState.offline) this.#probeOnline();
    else this.#stopOnlineProbe();
    if (previous === next) return;
    this.#state = next;
    this.#deps.log?.(`connection: ${previous} -> ${next}`);
    this.#deps.onState(next, previous);
  }

  /**
   * Chromium fires no `online` event in a service worker (`navigator.onLine` flips, no event
   * arrives), so while offline the hub asks `isOnline()` again with backoff (capped at
   * `ONLINE_PROBE_MAX_MS`: the check is a property read, not a request) and connects once it
   * says yes. A page's `online` event still reconnects at once through `setOnline`.
   */
  #probeOnline(): void {
    if (this.#onlineProbeTimer !== null) return;
    const delay = backoff(this.#onlineProbeAttempt, this.#deps.random(), { baseMs: this.#options.backoffBaseMs, maxMs: ONLINE_PROBE_MAX_MS });
    this.#onlineProbeAttempt += 1;
    this.#onlineProbeTimer = this.#deps.timers.setTimeout(() => {
      this.#onlineProbeTimer = null;
      if (this.#state !== ConnectionState.offline) return;
      if (this.#deps.isOnline()) {
        this.#deps.log?.("connection: the network is back (probe)");
        this.#connect();
      } else {
        this.#probeOnline();
      }
    }, delay);
  }

  #stopOnlineProbe(): void {
    this.#deps.timers.clearTimeout(this.#onlineProbeTimer);
    this.#onlineProbeTimer = null;
    this.#onlineProbeAttempt = 0;
  }

  async #connect(): Promise<void> {
    this.#dropSocket();
    if (!this.#deps.isOnline()) return this.#setState(ConnectionState.offline);
    const generation = this.#generation;
    this.#setState(ConnectionState.connecting);
    const credentials = await this.#deps.credentials();
    if (generation !== this.#generation) return;
    if (!credentials) return this.#setState(ConnectionState.signedOut);
    let socket: SocketLike;
    try {
      const resume = credentials.resumeFrom && resumeProtocol(credentials.resumeFrom);
      const protocols = [SUBPROTOCOL, BEARER_PROTOCOL_PREFIX + credentials.accessToken];
      socket = new this.#deps.WebSocket(credentials.url, resume ? [...protocols, resume] : protocols);
    } catch (error) {
      this.#deps.log?.(`connection: cannot open ${credentials.url}: ${String(error)}`);
      return this.#retry(false);
    }
    this.#socket = socket;
    const isCurrent = () => generation === this.#generation;
    socket.onopen = () => {
      if (!isCurrent()) return;
      this.#heard();
      this.#armDeadTimer();
      this.#scheduleKeepalive();
      // Reset attempts only once the link proved stable, not on open: a link that drops at once keeps backing off instead of hammering the server.
      this.#stableTimer = this.#deps.timers.setTimeout(() => {
        if (isCurrent()) this.#attempt = 0;
      }, this.#options.resetAttemptsAfterMs ?? BACKOFF_RESET_AFTER_MS);
    };
    socket.onmessage = (event) => {
      if (!isCurrent() || typeof event.data !== "string") return;
      this.#heard();
      this.#armDeadTimer();
      const parsed = parseServerFrame(event.data);
      if (!parsed.ok) return this.#deps.log?.(`connection: ignored a bad frame (${parsed.message})`);
      if (parsed.frame.type === ServerFrameType.pong) return;
      if (parsed.frame.type === ServerFrameType.welcome) this.#setState(ConnectionState.open);
      this.#deps.onFrame(parsed.frame);
    };
    socket.onerror = () => undefined; // A close event always follows; it carries the verdict.
    socket.onclose = (event) => {
      if (!isCurrent()) return;
      this.#onClose(event.code, event.reason);
    };
  }

  async #onClose(code: number, reason: string): Promise<void> {
    this.#deps.log?.(`connection: closed ${code} "${reason}"`);
    this.#dropSocket();
    switch (closeAction(code, reason)) {
      case CloseAction.stayClosedReplaced:
        return this.#setState(ConnectionState.replaced);
      case CloseAction.login:
        if (isSessionEnded(code, reason)) {
          // Not "sign in again" on a token we still hold: that session is gone for good.
          this.#deps.onSessionEnded?.();
          return this.#setState(ConnectionState.signedOut);
        }
        return this.#setState(ConnectionState.authRequired);
      case CloseAction.stayClosed:
        return this.#setState(ConnectionState.authRequired);
      case CloseAction.refreshThenReconnect: {
        const generation = this.#generation;
        this.#setState(ConnectionState.connecting);
        const outcome = await this.#deps.refresh();
        if (generation !== this.#generation) return;
        if (outcome === "refreshed") return void this.#connect();
        return outcome === "login" ? this.#setState(ConnectionState.authRequired) : this.#retry(false);
      }
      case CloseAction.reconnect:
        return this.#retry(isServiceRestart(code, reason));
      case CloseAction.reconnectAfterCooldown:
        return this.#retry(false, this.#options.rateLimitedMinDelayMs ?? RATE_LIMITED_RECONNECT_MIN_MS);
    }
  }

  /** `minDelayMs`: after `4029 Rate limited`, never come back sooner than the server's budget refills. */
  #retry(serviceRestart: boolean, minDelayMs = 0): void {
    if (!this.#deps.isOnline()) return this.#setState(ConnectionState.offline);
    const random = this.#deps.random();
    const backoffDelay =
      serviceRestart && this.#attempt === 0
        ? restartJitter(random)
        : backoff(this.#attempt, random, { baseMs: this.#options.backoffBaseMs, maxMs: this.#options.backoffMaxMs });
    const delay = Math.max(minDelayMs, backoffDelay);
    this.#attempt += 1;
    this.#deps.log?.(`connection: retry ${this.#attempt} in ${delay} ms`);
    this.#setState(ConnectionState.backoff);
    const generation = this.#generation;
    this.#retryTimer = this.#deps.timers.setTimeout(() => {
      if (generation === this.#generation) void this.#connect();
    }, delay);
  }

  /**
   * Keepalive and dead-link detection: two small functions around two timers. The keepalive also
   * asks `isOnline()`: a service worker gets no `offline` event, so that is where it learns.
   */
  #scheduleKeepalive(): void {
    const generation = this.#generation;
    this.#keepaliveTimer = this.#deps.timers.setTimeout(() => {
      if (generation !== this.#generation) return;
      if (!this.#deps.isOnline()) this.#checkLink();
      else this.#ping();
      this.#scheduleKeepalive();
    }, this.#keepaliveMs);
  }

  /**
   * The browser says the network is gone, but an open socket shows nothing until TCP gives up, and
   * the dead-link check waits 2.5 keepalive periods (50 s by default) — all that time the tabs said
   * "connected". Ping now: if no frame at all arrives within `LINK_CHECK_MS`, drop the socket
   * (offline, while the browser still says so). A link that answers — a server on this machine —
   * stays open. A late timer (a throttled tab) only delays the verdict: a pong is delivered anyway.
   */
  #checkLink(): void {
    if (this.#linkCheckTimer !== null) return;
    const sentAt = this.#now();
    if (!this.#ping()) return;
    const generation = this.#generation;
    this.#linkCheckTimer = this.#deps.timers.setTimeout(() => {
      this.#linkCheckTimer = null;
      if (generation !== this.#generation || this.#lastFrameAt >= sentAt) return;
      this.#deps.log?.(`connection: no answer to a link check within ${LINK_CHECK_MS} ms, reconnecting`);
      this.#dropSocket();
      this.#retry(false);
    }, LINK_CHECK_MS);
  }

  #armDeadTimer(delayMs = this.#deadAfterMs): void {
    this.#deps.timers.clearTimeout(this.#deadTimer);
    const generation = this.#generation;
    this.#deadTimer = this.#deps.timers.setTimeout(() => {
      if (generation !== this.#generation) return;
      if (!this.#silentTooLong()) return this.#armDeadTimer(this.#deadAfterMs / 2);
      this.#deps.log?.(`connection: no frame for ${this.#deadAfterMs} ms, reconnecting`);
      this.#dropSocket();
      this.#retry(false);
    }, delayMs);
  }

  /**
   * Dead only if the clock agrees and a ping of ours went unanswered for a whole keepalive period:
   * in a throttled tab both timers fire late, and a pong cannot answer a ping that was never sent.
   */
  #silentTooLong(): boolean {
    const now = this.#now();
    if (now - this.#lastFrameAt < this.#deadAfterMs) return false;
    if (this.#pingUnansweredSince === null) {
      this.#ping();
      return false;
    }
    return now - this.#pingUnansweredSince >= this.#keepaliveMs;
  }

  /** False when there is no open socket to ping. */
  #ping(): boolean {
    if (!this.send({ type: ClientFrameType.ping })) return false;
    this.#pingUnansweredSince ??= this.#now();
    return true;
  }

  #heard(): void {
    this.#lastFrameAt = this.#now();
    this.#pingUnansweredSince = null;
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }

  /** Forget the current socket: later callbacks from it are stale by generation. */
  #dropSocket(code?: number, reason?: string): void {
    this.#generation += 1;
    for (const timer of [this.#keepaliveTimer, this.#deadTimer, this.#retryTimer, this.#stableTimer, this.#linkCheckTimer]) {
      this.#deps.timers.clearTimeout(timer);
    }
    this.#keepaliveTimer = this.#deadTimer = this.#retryTimer = this.#stableTimer = this.#linkCheckTimer = null;
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.onerror = () => undefined;
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that never opened can throw in some runtimes; it is gone either way.
    }
  }
}
