import { describe, expect, it } from "vitest";
import {
  EXTENSION_GONE_MS,
  extensionPresent,
  isCurrentTerm,
  nextTerm,
  shouldTakeOver,
  TAKEOVER_AFTER_MS,
  type HeardState,
} from "../../shared/coordinator/takeover.js";

// The coordinator's decisions are pure functions of what a tab heard and the clock.
const heard = (patch: Partial<HeardState> = {}): HeardState => ({ term: 100, lastHeardAt: 1_000, extensionSeenAt: null, ...patch });

describe("coordinator decisions", () => {
  it("takes over only after the takeover window plus this tab's jitter, by the clock, while a leader holds the lock", () => {
    expect(shouldTakeOver(heard(), 1_000 + TAKEOVER_AFTER_MS - 1, 0, true)).toBe(false);
    expect(shouldTakeOver(heard(), 1_000 + TAKEOVER_AFTER_MS, 0, true)).toBe(true);
    expect(shouldTakeOver(heard(), 1_000 + TAKEOVER_AFTER_MS + 400, 500, true)).toBe(false);
    expect(shouldTakeOver(heard(), 1_000 + TAKEOVER_AFTER_MS + 500, 500, true)).toBe(true);
    // Nobody holds the lock: the election runs by itself, no steal.
    expect(shouldTakeOver(heard(), 1_000_000, 0, false)).toBe(false);
  });

  it("a throttled follower whose timer fired late decides by the clock: a heartbeat heard just now counts", () => {
    // The follower's check ran 50 s late, but a heartbeat arrived 200 ms ago: no takeover.
    expect(shouldTakeOver(heard({ lastHeardAt: 50_800 }), 51_000, 0, true)).toBe(false);
  });

  it("never takes over while an extension tab announced itself recently", () => {
    const withExtension = heard({ extensionSeenAt: 9_000 });
    expect(extensionPresent(withExtension, 9_000 + EXTENSION_GONE_MS - 1)).toBe(true);
    expect(shouldTakeOver(withExtension, 9_000 + EXTENSION_GONE_MS - 1, 0, true)).toBe(false);
    expect(extensionPresent(withExtension, 9_000 + EXTENSION_GONE_MS)).toBe(false);
    expect(shouldTakeOver(withExtension, 9_000 + EXTENSION_GONE_MS, 0, true)).toBe(true);
  });

  it("terms: a new leader's term is above everything heard and above the clock; an older term is a stale leader", () => {
    expect(nextTerm(heard({ term: 5 }), 1_000)).toBe(1_000);
    expect(nextTerm(heard({ term: 5_000 }), 1_000)).toBe(5_001);
    expect(isCurrentTerm(heard({ term: 5_000 }), 4_999)).toBe(false);
    expect(isCurrentTerm(heard({ term: 5_000 }), 5_000)).toBe(true);
    expect(isCurrentTerm(heard({ term: 5_000 }), 5_001)).toBe(true);
  });
});
