import { describe, expect, it, vi } from "vitest";
import { PendingReplies } from "../../shared/sdk/pending-replies.js";

// The one pending-reply map of the tab SDK client (requests → hub replies) and the hub's sender
// (sends → acks). Time is the subject of the timeout case, so fake timers there.
describe("pending replies", () => {
  it("settles each id once: by its answer, and later answers or unknown ids are ignored", async () => {
    const pending = new PendingReplies<string>();
    const reply = pending.wait("a", 1000, () => new Error("timeout"));
    expect(pending.resolve("other", "x")).toBe(false);
    expect(pending.resolve("a", "first")).toBe(true);
    expect(pending.resolve("a", "second")).toBe(false);
    await expect(reply).resolves.toBe("first");
    expect(pending.size).toBe(0);
  });

  it("times out with the caller's error and forgets the id", async () => {
    vi.useFakeTimers();
    try {
      const pending = new PendingReplies<string>();
      const reply = pending.wait("a", 1000, () => new Error("no answer in 1000 ms"));
      const settled = expect(reply).rejects.toThrow("no answer in 1000 ms");
      vi.advanceTimersByTime(1000);
      await settled;
      expect(pending.has("a")).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("rejectAll settles everything (a client closing, a hub handing over); forget drops without settling", async () => {
    const pending = new PendingReplies<number>();
    const a = pending.wait("a", 1000, () => new Error("timeout"));
    const b = pending.wait("b", 1000, () => new Error("timeout"));
    pending.forget("b");
    pending.rejectAll(new Error("closed"));
    await expect(a).rejects.toThrow("closed");
    expect(pending.size).toBe(0);
    void b; // never settles: its owner settles its own promise another way
  });
});
