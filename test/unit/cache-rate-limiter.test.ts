import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../server/src/cache-migrate/rate-limiter.js";

/** A fake clock: sleeping advances it. Time is the subject here. */
function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms), elapsed: () => now };
}

describe("RateLimiter", () => {
  it("lets `rate` keys per second through", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(1000, clock.now, clock.sleep);
    for (let i = 0; i < 50; i++) await limiter.take(limiter.chunk);
    expect(limiter.chunk).toBe(100);
    expect(clock.elapsed()).toBeGreaterThanOrEqual(4900);
    expect(clock.elapsed()).toBeLessThanOrEqual(5100);
  });

  it("is a no-op at rate 0", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(0, clock.now, clock.sleep);
    await limiter.take(1_000_000);
    expect(clock.elapsed()).toBe(0);
    expect(limiter.chunk).toBe(Infinity);
  });
});
