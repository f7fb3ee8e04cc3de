import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import { CallDeadlines } from "./call-deadlines.js";
import type { RedisClient } from "./redis-keys.js";

/** `recovering`: Redis answers again and the recovery hooks run; calls still use the fallbacks. */
export type RedisHealthState = "up" | "down" | "recovering";

export interface RedisHealthOptions {
  /** Every connection the realtime layer needs (commands and subscriber). */
  clients: RedisClient[];
  /** A cheap round trip proving Redis answers, e.g. `() => commands.ping()`. */
  probe: () => Promise<unknown>;
  logger?: Logger;
  metrics?: Pick<Metrics, "redisUp">;
  /** How often a down Redis is probed. @default 1000 */
  probeIntervalMs?: number;
  /** A Redis call slower than this counts as a failure and is served by the fallback. @default 5000 */
  callTimeoutMs?: number;
}

export class RedisCallTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms; serving from the in-process fallback. Raise callTimeoutMs if Redis is just slow.`);
    this.name = "RedisCallTimeoutError";
  }
}

/**
 * Whether the realtime layer may use Redis, changed through one `setState`. A connection event
 * (close, reconnecting, end) or a failed call marks Redis down at once; while down, a probe runs
 * every `probeIntervalMs` (one timer, never a tight loop) and, once every connection is ready and
 * a PING answers, the recovery hooks run (re-adopt owner records, …) before the state is `up`
 * again. No restart needed.
 */
export class RedisHealth {
  #state: RedisHealthState = "down";
  /** Until Redis has been up once, "down" only means "not connected yet": start-up is not an outage. */
  #everUp = false;
  #probeTimer: NodeJS.Timeout | undefined;
  #probing = false;
  #closed = false;
  readonly #recoveryHooks = new Set<() => Promise<void>>();
  readonly #listeners = new Set<(state: RedisHealthState) => void>();
  readonly #detach: (() => void)[] = [];
  readonly #probeIntervalMs: number;
  readonly callTimeoutMs: number;
  readonly #deadlines: CallDeadlines;

  constructor(private readonly options: RedisHealthOptions) {
    this.#probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.callTimeoutMs = options.callTimeoutMs ?? 5000;
    this.#deadlines = new CallDeadlines(this.callTimeoutMs);
    options.metrics?.redisUp.set(0);
    for (const client of options.clients) {
      const lost = () => this.#markDown("connection lost");
      const ready = () => this.#scheduleProbe(0);
      client.on("close", lost);
      client.on("reconnecting", lost);
      client.on("end", lost);
      client.on("ready", ready);
      this.#detach.push(() => {
        client.off("close", lost);
        client.off("reconnecting", lost);
        client.off("end", lost);
        client.off("ready", ready);
      });
    }
    this.#scheduleProbe(0);
  }

  get state(): RedisHealthState {
    return this.#state;
  }

  isUp(): boolean {
    return this.#state === "up";
  }

  /** Runs (in registration order) after an outage, before Redis is used again. Returns the remover. */
  onRecover(hook: () => Promise<void>): () => void {
    this.#recoveryHooks.add(hook);
    return () => this.#recoveryHooks.delete(hook);
  }

  onChange(listener: (state: RedisHealthState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * `primary` while Redis is up, else `fallback`. A failing or slow primary marks Redis down and
   * is answered by `fallback`, so callers never see a Redis error.
   */
  async run<T>(primary: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    if (this.#state !== "up") return fallback();
    try {
      return await this.withTimeout(primary());
    } catch (error) {
      this.reportFailure(error);
      return fallback();
    }
  }

  /**
   * Rejects with `RedisCallTimeoutError` after `callTimeoutMs`; a late rejection is swallowed.
   * The verdict waits one `setImmediate`: after a stalled event loop the timers phase runs before
   * the poll phase, so a reply already in the socket buffer gets its chance to win first (a busy
   * process is not a Redis outage).
   */
  withTimeout<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = this.#deadlines.add(() => setImmediate(() => reject(new RedisCallTimeoutError(this.callTimeoutMs))));
      promise.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  reportFailure(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    // A script or argument bug is not an outage: log it loudly, keep Redis in use.
    if (error instanceof Error && error.name === "ReplyError" && !/LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN/.test(message)) {
      this.options.logger?.error({ err: message }, "redis command failed; served by the in-process fallback");
      return;
    }
    this.#markDown(message);
  }

  #markDown(reason: string): void {
    if (this.#closed) return;
    if (this.#state !== "down") this.#setState("down", reason);
    this.#scheduleProbe(this.#probeIntervalMs);
  }

  #setState(next: RedisHealthState, reason: string): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.options.metrics?.redisUp.set(next === "up" ? 1 : 0);
    if (!this.#everUp) {
      // First connection: one "redis up" line instead of "down -> recovering -> up".
      if (next === "up") this.options.logger?.info({ to: next, reason: "connected" }, "redis up");
    } else {
      const log = next === "down" ? this.options.logger?.warn.bind(this.options.logger) : this.options.logger?.info.bind(this.options.logger);
      log?.({ from: previous, to: next, reason }, `redis ${previous} -> ${next}`);
    }
    if (next === "up") this.#everUp = true;
    for (const listener of this.#listeners) listener(next);
  }

  #scheduleProbe(delayMs: number): void {
    if (this.#closed || this.#state === "up" || this.#probing) return;
    if (this.#probeTimer) {
      if (delayMs > 0) return; // one pending probe is enough
      clearTimeout(this.#probeTimer);
    }
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      void this.#probe();
    }, delayMs);
    this.#probeTimer.unref();
  }

  async #probe(): Promise<void> {
    if (this.#closed || this.#state === "up") return;
    this.#probing = true;
    try {
      if (!this.options.clients.every((client) => client.status === "ready")) return;
      await this.withTimeout(this.options.probe());
      this.#setState("recovering", "redis answers");
      for (const hook of this.#recoveryHooks) await hook();
      if (this.#state === "recovering") this.#setState("up", "recovered");
    } catch (error) {
      this.options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, "redis recovery attempt failed; retrying");
      if (this.#state === "recovering") this.#setState("down", "recovery failed");
    } finally {
      this.#probing = false;
      if (!this.isUp()) this.#scheduleProbe(this.#probeIntervalMs);
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#deadlines.close();
    for (const detach of this.#detach) detach();
    this.#listeners.clear();
    this.#recoveryHooks.clear();
  }
}
