/**
 * A token bucket for `--rate` (keys per second): `take(n)` resolves once n keys may go. Holds
 * at most one second of burst. `rate` 0 = unlimited.
 */
export class RateLimiter {
  #tokens: number;
  #last: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.#tokens = Math.min(rate, 1);
    this.#last = now();
  }

  /** Largest batch worth asking for at once (a tenth of a second of keys, at least one). */
  get chunk(): number {
    return this.rate > 0 ? Math.max(1, Math.floor(this.rate / 10)) : Infinity;
  }

  async take(n: number): Promise<void> {
    if (this.rate <= 0) return;
    for (;;) {
      const now = this.now();
      this.#tokens = Math.min(this.rate, this.#tokens + ((now - this.#last) / 1000) * this.rate);
      this.#last = now;
      if (this.#tokens >= n || (n > this.rate && this.#tokens >= this.rate)) {
        this.#tokens -= n;
        return;
      }
      await this.sleep(Math.ceil(((n - this.#tokens) / this.rate) * 1000));
    }
  }
}
