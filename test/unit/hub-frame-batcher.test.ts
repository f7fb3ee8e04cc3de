import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HubMessageKind, type BatchedHubMessage, type HubMessage } from "../../shared/sdk/hub-messages.js";
import { frameBatcher, FRAME_MS } from "../../shared/hub/frame-batcher.js";

// Time is the subject here, so fake timers.
const unread = (count: number): BatchedHubMessage => ({ kind: HubMessageKind.unread, count });
const timers = {
  setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
};

describe("frame batcher (worker fan-out)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends the first change of a burst at once and the rest of the frame as one batch, in order", () => {
    const sent: HubMessage[] = [];
    const fanOut = frameBatcher((m) => sent.push(m), timers);
    fanOut(unread(1));
    expect(sent).toEqual([unread(1)]); // no added latency for a lone change
    fanOut(unread(2));
    fanOut(unread(3));
    fanOut(unread(4));
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(FRAME_MS);
    expect(sent).toEqual([unread(1), { kind: HubMessageKind.batch, messages: [unread(2), unread(3), unread(4)] }]);
  });

  it("a single change left at the end of a frame goes out as itself; a quiet frame resets to immediate", () => {
    const sent: HubMessage[] = [];
    const fanOut = frameBatcher((m) => sent.push(m), timers);
    fanOut(unread(1));
    fanOut(unread(2));
    vi.advanceTimersByTime(FRAME_MS);
    expect(sent).toEqual([unread(1), unread(2)]);
    vi.advanceTimersByTime(FRAME_MS); // a frame with nothing in it: the burst is over
    fanOut(unread(3));
    expect(sent).toEqual([unread(1), unread(2), unread(3)]);
  });

  it("flush() sends what the frame holds at once, in order, and nothing is sent twice at the frame's end", () => {
    const sent: HubMessage[] = [];
    const fanOut = frameBatcher((m) => sent.push(m), timers);
    fanOut.flush(); // nothing held: nothing sent
    expect(sent).toEqual([]);
    fanOut(unread(1));
    fanOut(unread(2));
    fanOut(unread(3));
    fanOut.flush(); // a leader handing over: its channel closes next
    expect(sent).toEqual([unread(1), { kind: HubMessageKind.batch, messages: [unread(2), unread(3)] }]);
    vi.advanceTimersByTime(FRAME_MS * 3);
    expect(sent).toHaveLength(2);
    fanOut(unread(4));
    fanOut.flush();
    expect(sent).toEqual([unread(1), { kind: HubMessageKind.batch, messages: [unread(2), unread(3)] }, unread(4)]);
  });
});
