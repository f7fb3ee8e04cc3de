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

  /** Records a replacement; true when it is the one that put the user into a loop (log it once). */
  replaced(userId: number): boolean {
    const times = this.#replacedAt.get(userId) ?? [];
    const wasInLoop = this.#inLoop(times);
    this.#replacedAt.delete(userId);
    times.push(this.now());
    if (times.length > this.threshold + 1) times.shift();
    this.#replacedAt.set(userId, times);
    this.#prune();
    return !wasInLoop && this.#inLoop(times);
  }

  /** Users replaced more than `threshold` times within the window, now. */
  usersInLoop(): number {
    this.#prune();
    let count = 0;
    for (const times of this.#replacedAt.values()) if (this.#inLoop(times)) count++;
    return count;
  }

  #inLoop(times: number[]): boolean {
    return times.length > this.threshold && times[0]! >= this.now() - this.windowMs;
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
