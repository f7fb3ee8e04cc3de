import { describe, expect, it } from "vitest";
import { ReconnectTracker } from "../../server/src/ws/reconnect-tracker.js";
import { ReplacementLoopTracker } from "../../server/src/ws/replacement-loop-tracker.js";

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("ReconnectTracker", () => {
  it("counts a connect within the window after the user's close, not a first connect or a late one", () => {
    const time = clock();
    const tracker = new ReconnectTracker(30_000, 100, time.now);
    expect(tracker.connected(1)).toBe(false);
    tracker.closed(1);
    time.advance(5000);
    expect(tracker.connected(1)).toBe(true);
    tracker.closed(1);
    time.advance(31_000);
    expect(tracker.connected(1)).toBe(false);
  });

  it("keeps at most maxUsers closes and forgets expired ones", () => {
    const time = clock();
    const tracker = new ReconnectTracker(30_000, 100, time.now);
    for (let user = 0; user < 1000; user++) tracker.closed(user);
    expect(tracker.size).toBeLessThanOrEqual(101);
    expect(tracker.connected(999)).toBe(true);
    time.advance(31_000);
    tracker.closed(5000);
    expect(tracker.size).toBe(1);
  });
});

describe("ReplacementLoopTracker", () => {
  it("counts a user replaced more than the threshold within the window, then lets it decay", () => {
    const time = clock();
    const tracker = new ReplacementLoopTracker(3, 60_000, 100, time.now);
    for (let i = 0; i < 3; i++) expect(tracker.replaced(7)).toBe(false);
    expect(tracker.usersInLoop()).toBe(0); // exactly the threshold: not "more than"
    expect(tracker.replaced(7)).toBe(true); // entering the loop: reported once
    expect(tracker.replaced(7)).toBe(false);
    tracker.replaced(8);
    expect(tracker.usersInLoop()).toBe(1);
    time.advance(61_000);
    expect(tracker.usersInLoop()).toBe(0);
    expect(tracker.size).toBe(0);
  });

  it("does not count replacements spread wider than the window", () => {
    const time = clock();
    const tracker = new ReplacementLoopTracker(3, 60_000, 100, time.now);
    for (let i = 0; i < 10; i++) {
      tracker.replaced(7);
      time.advance(25_000);
    }
    expect(tracker.usersInLoop()).toBe(0);
  });

  it("bounds memory: at most maxUsers users, threshold + 1 times each", () => {
    const time = clock();
    const tracker = new ReplacementLoopTracker(3, 60_000, 100, time.now);
    for (let user = 0; user < 1000; user++) for (let i = 0; i < 10; i++) tracker.replaced(user);
    expect(tracker.size).toBeLessThanOrEqual(101);
    expect(tracker.usersInLoop()).toBeLessThanOrEqual(101);
  });
});
