interface Deadline {
  at: number;
  settled: boolean;
  expire: () => void;
}

/**
 * Deadlines that all lie the same `timeoutMs` after they are added: they expire in the order they
 * were added, so one timer, armed for the oldest unsettled one, serves them all. A Redis call
 * costs a queue entry instead of a timer of its own (the realtime layer times every call, a few
 * per message). A settled deadline is skipped when its turn comes.
 */
export class CallDeadlines {
  #queue: Deadline[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** `expire` runs once `timeoutMs` has passed, unless the returned `settle` ran first. */
  add(expire: () => void): () => void {
    const deadline: Deadline = { at: Date.now() + this.timeoutMs, settled: false, expire };
    this.#queue.push(deadline);
    if (!this.#timer) this.#arm(this.timeoutMs);
    return () => {
      deadline.settled = true;
    };
  }

  /** Unsettled deadlines (for tests and leak checks). */
  get pending(): number {
    let count = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!this.#queue[i]!.settled) count++;
    return count;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, delayMs));
    this.#timer.unref?.();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = Date.now();
    while (this.#head < this.#queue.length) {
      const deadline = this.#queue[this.#head]!;
      if (!deadline.settled && deadline.at > now) break;
      this.#head++;
      if (!deadline.settled) deadline.expire();
    }
    // Drop the consumed prefix now and then, not on every expiry.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const next = this.#queue[this.#head];
    if (next) this.#arm(next.at - now);
    else {
      this.#queue = [];
      this.#head = 0;
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
  }
}
