import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startHeartbeat } from "../../server/src/ws/heartbeat.js";

// Time is the subject here: fake timers.
describe("startHeartbeat", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("pings each interval and times out after maxMissed unanswered pings", () => {
    const ping = vi.fn();
    const onTimeout = vi.fn();
    startHeartbeat({ intervalMs: 1000, maxMissed: 3, ping, onTimeout });
    vi.advanceTimersByTime(3000);
    expect(ping).toHaveBeenCalledTimes(3);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(ping).toHaveBeenCalledTimes(3);
  });
  it("a pong resets the count; stop clears the timer", () => {
    const ping = vi.fn();
    const onTimeout = vi.fn();
    const hb = startHeartbeat({ intervalMs: 1000, maxMissed: 2, ping, onTimeout });
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1000);
      hb.pong();
    }
    expect(onTimeout).not.toHaveBeenCalled();
    hb.stop();
    vi.advanceTimersByTime(10_000);
    expect(ping).toHaveBeenCalledTimes(10);
    expect(vi.getTimerCount()).toBe(0);
  });
});
