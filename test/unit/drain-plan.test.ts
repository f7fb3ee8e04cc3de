import { describe, expect, it } from "vitest";
import { planDrain } from "../../server/src/ws/drain-plan.js";

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("planDrain", () => {
  it("spreads sockets so no second closes more than the rate", () => {
    const plan = planDrain(10_000, { socketsPerSecond: 400, maxWindowMs: 60_000 });
    expect(sum(plan.slices)).toBe(10_000);
    expect(plan.windowMs).toBeGreaterThanOrEqual(24_000);
    expect(plan.windowMs).toBeLessThanOrEqual(25_000);
    for (let i = 0; i + 10 <= plan.slices.length; i++) expect(sum(plan.slices.slice(i, i + 10))).toBeLessThanOrEqual(400);
  });

  it("never exceeds the window the shutdown budget leaves: drains faster instead", () => {
    const plan = planDrain(10_000, { socketsPerSecond: 400, maxWindowMs: 6000 });
    expect(sum(plan.slices)).toBe(10_000);
    expect(plan.windowMs).toBeLessThanOrEqual(6000);
    expect(Math.max(...plan.slices) - Math.min(...plan.slices)).toBeLessThanOrEqual(1);
  });

  it("closes a few sockets at once, and everything at once with rate 0", () => {
    expect(planDrain(3, { socketsPerSecond: 400, maxWindowMs: 8000 })).toEqual({ windowMs: 0, slices: [3], sliceMs: 100 });
    expect(planDrain(5000, { socketsPerSecond: 0, maxWindowMs: 8000 }).slices).toEqual([5000]);
    expect(planDrain(0, { socketsPerSecond: 400, maxWindowMs: 8000 }).slices).toEqual([]);
  });
});
