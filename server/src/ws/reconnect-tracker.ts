/**
 * Tells a reconnect from a first connect: a user's connect within `windowMs` after their previous
 * socket on this instance closed. Remembers at most `maxUsers` recent closes (the oldest are
 * forgotten first), so memory stays bounded however many users come and go.
 */
export class ReconnectTracker {
  /** userId → when their last socket closed; insertion order = close order (oldest first). */
  readonly #closedAt = new Map<number, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxUsers = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  closed(userId: number): void {
    this.#closedAt.delete(userId);
    this.#closedAt.set(userId, this.now());
    this.#prune();
  }

  /** True when this connect follows the user's previous close within the window. */
  connected(userId: number): boolean {
    const closedAt = this.#closedAt.get(userId);
    this.#closedAt.delete(userId);
    this.#prune();
    return closedAt !== undefined && this.now() - closedAt <= this.windowMs;
  }

  get size(): number {
    return this.#closedAt.size;
  }

  #prune(): void {
    const oldest = this.now() - this.windowMs;
    for (const [userId, closedAt] of this.#closedAt) {
      if (closedAt >= oldest && this.#closedAt.size <= this.maxUsers) break;
      this.#closedAt.delete(userId);
    }
  }
}
