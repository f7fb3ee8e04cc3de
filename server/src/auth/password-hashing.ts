import pLimit, { type LimitFunction } from "p-limit";
import type { Metrics } from "../metrics.js";
import { hashPassword, verifyPassword } from "./passwords.js";

export interface PasswordHashingOptions {
  /**
   * Hashes computed at once. scrypt runs on libuv's thread pool (4 threads by default), which
   * also serves file and DNS work and asynchronous crypto for other requests, and
   * each hash takes a core for tens of milliseconds; a bound below the pool size keeps both
   * free for other users while guessers queue. @default 2
   */
  concurrency: number;
  /** Hashes waiting for a slot; beyond this a login is refused with 503 instead of queueing without bound. @default 64 */
  maxQueued: number;
  metrics?: Pick<Metrics, "passwordHashesActive" | "passwordHashesQueued">;
}

export class PasswordHashingBusyError extends Error {
  constructor(maxQueued: number) {
    super(`${maxQueued} password checks are already waiting; try again in a moment (PASSWORD_HASH_QUEUE_MAX raises the queue)`);
    this.name = "PasswordHashingBusyError";
  }
}

/**
 * Password hashing with bounded concurrency, so parallel login guessing queues behind itself
 * instead of starving other requests. p-limit is the small, well-kept library for the job
 * (`activeCount` / `pendingCount` feed the gauges).
 */
export class PasswordHashing {
  readonly #limit: LimitFunction;
  #running = 0;

  constructor(private readonly options: PasswordHashingOptions) {
    this.#limit = pLimit(options.concurrency);
  }

  /** Hashes being computed now (never above `concurrency`). */
  get active(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#limit.pendingCount;
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.#run(() => verifyPassword(password, stored));
  }

  hash(password: string): Promise<string> {
    return this.#run(() => hashPassword(password));
  }

  #run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#limit.pendingCount >= this.options.maxQueued) return Promise.reject(new PasswordHashingBusyError(this.options.maxQueued));
    const done = this.#limit(async () => {
      this.#running += 1;
      this.#report();
      try {
        return await task();
      } finally {
        this.#running -= 1;
        this.#report();
      }
    });
    this.#report();
    return done;
  }

  #report(): void {
    this.options.metrics?.passwordHashesActive.set(this.#running);
    this.options.metrics?.passwordHashesQueued.set(this.#limit.pendingCount);
  }
}
