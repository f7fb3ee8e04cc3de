import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CallDeadlines } from "../../server/src/realtime/call-deadlines.js";

// Time is the subject here: fake timers.
describe("CallDeadlines", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("expires each unsettled deadline timeoutMs after it was added, in order, and never a settled one", () => {
    const deadlines = new CallDeadlines(100);
    const expired: string[] = [];
    deadlines.add(() => expired.push("a"));
    vi.advanceTimersByTime(30);
    const settleB = deadlines.add(() => expired.push("b"));
    vi.advanceTimersByTime(30);
    deadlines.add(() => expired.push("c"));
    settleB();
    vi.advanceTimersByTime(39);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1); // a: 100 ms
    expect(expired).toEqual(["a"]);
    vi.advanceTimersByTime(59); // b would be at 130, c at 160
    expect(expired).toEqual(["a"]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["a", "c"]);
    expect(deadlines.pending).toBe(0);
  });

  it("uses one timer however many calls are in flight, and none once all settled", () => {
    const deadlines = new CallDeadlines(1000);
    const settles = Array.from({ length: 500 }, () => deadlines.add(() => undefined));
    expect(vi.getTimerCount()).toBe(1);
    for (const settle of settles) settle();
    vi.advanceTimersByTime(1000);
    expect(vi.getTimerCount()).toBe(0);
    expect(deadlines.pending).toBe(0);
  });

  it("keeps serving after thousands of calls (the consumed prefix is dropped)", () => {
    const deadlines = new CallDeadlines(10);
    let expired = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) deadlines.add(() => expired++);
      vi.advanceTimersByTime(10);
    }
    expect(expired).toBe(5000);
    deadlines.add(() => expired++);
    expect(deadlines.pending).toBe(1);
    deadlines.close();
    vi.advanceTimersByTime(10);
    expect(expired).toBe(5000);
  });
});
