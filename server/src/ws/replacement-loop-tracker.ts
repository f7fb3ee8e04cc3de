/**
 * The reconnect-loop signature: the same user replaced again and again. Counts, without a
 * per-user metric label (one series per user would be unbounded cardinality), how many users
 * were replaced more than `threshold` times within the last `windowMs`. Keeps at most
 * `threshold + 1` timestamps per user and at most `maxUsers` users (the least recently replaced
 * are forgotten first), so memory is bounded.
 */
export class ReplacementLoopTracker {
  /** userId → their most recent replacement times (oldest first); Map order = least recently replaced first. */
  readonly #replacedAt = new Map<number, number[]>();

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly maxUsers = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  replaced(userId: number): void {
    const times = this.#replacedAt.get(userId) ?? [];
    this.#replacedAt.delete(userId);
    times.push(this.now());
    if (times.length > this.threshold + 1) times.shift();
    this.#replacedAt.set(userId, times);
    this.#prune();
  }

  /** Users replaced more than `threshold` times within the window, now. */
  usersInLoop(): number {
    this.#prune();
    const oldest = this.now() - this.windowMs;
    let count = 0;
    for (const times of this.#replacedAt.values()) if (times.length > this.threshold && times[0]! >= oldest) count++;
    return count;
  }

  get size(): number {
    return this.#replacedAt.size;
  }

  #prune(): void {
    const oldest = this.now() - this.windowMs;
    for (const [userId, times] of this.#replacedAt) {
      if (times.at(-1)! >= oldest && this.#replacedAt.size <= this.maxUsers) break;
      this.#replacedAt.delete(userId);
    }
  }
}
