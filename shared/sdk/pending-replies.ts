/** The timer surface `PendingReplies` needs (injected so Node tests and a throttled tab can choose). */
export interface ReplyTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface Pending<T> {
  resolve(result: T): void;
  reject(error: Error): void;
  timer: unknown;
}

const globalTimers: ReplyTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Promises waiting for an answer that arrives as a separate message, keyed by an id: a tab's
 * request waiting for the hub's reply, the hub's `send` waiting for the server's `ack`. Each one
 * settles once: by `resolve`/`reject`, or with the timeout error when nothing came in time.
 */
export class PendingReplies<T> {
  readonly #pending = new Map<string, Pending<T>>();
  readonly #timers: ReplyTimers;

  constructor(timers: ReplyTimers = globalTimers) {
    this.#timers = timers;
  }

  get size(): number {
    return this.#pending.size;
  }

  has(id: string): boolean {
    return this.#pending.has(id);
  }

  ids(): string[] {
    return [...this.#pending.keys()];
  }

  /** Wait for `id`; after `timeoutMs` the promise rejects with `timeoutError()`. */
  wait(id: string, timeoutMs: number, timeoutError: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        if (this.#pending.get(id)?.timer !== timer) return;
        this.#pending.delete(id);
        reject(timeoutError());
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  /** Settle `id` with a result; false when nothing waits for it (another tab's reply, a late ack). */
  resolve(id: string, result: T): boolean {
    const pending = this.#take(id);
    pending?.resolve(result);
    return pending !== undefined;
  }

  reject(id: string, error: Error): boolean {
    const pending = this.#take(id);
    pending?.reject(error);
    return pending !== undefined;
  }

  /** Stop waiting for `id` without settling it (the caller settles its own promise another way). */
  forget(id: string): void {
    this.#take(id);
  }

  rejectAll(error: Error): void {
    for (const id of this.ids()) this.reject(id, error);
  }

  #take(id: string): Pending<T> | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    this.#timers.clearTimeout(pending.timer);
    return pending;
  }
}
