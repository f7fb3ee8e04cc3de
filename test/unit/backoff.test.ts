import { describe, expect, it } from "vitest";
import { backoff, restartJitter } from "../../shared/protocol/index.js";

describe("backoff(attempt, random)", () => {
  it("grows as 1 s × 2^attempt and caps at 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoff(a, 1))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  it("jitters between half and all of the cap", () => {
    expect(backoff(3, 0)).toBe(4000);
    expect(backoff(3, 0.5)).toBe(6000);
    for (let i = 0; i < 100; i++) {
      const d = backoff(4, Math.random());
      expect(d).toBeGreaterThanOrEqual(8000);
      expect(d).toBeLessThanOrEqual(16000);
    }
  });
  it("is safe on out-of-range input", () => {
    expect(backoff(-5, 1)).toBe(1000);
    expect(backoff(1e9, 1)).toBe(30000);
    expect(backoff(2, 7)).toBe(4000);
  });
  it("spreads the first restart reconnect over 0–5 s", () => {
    expect(restartJitter(0)).toBe(0);
    expect(restartJitter(1)).toBe(5000);
  });
});
