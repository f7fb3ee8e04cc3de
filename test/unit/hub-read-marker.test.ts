import { describe, expect, it } from "vitest";
import { ReadMarker } from "../../shared/hub/read-marker.js";

/** A scripted server: each call waits until the test answers it. */
function scriptedServer() {
  const calls: Array<{ peerId: number; upTo: number; answer: (unread: number) => void; fail: (error: Error) => void }> = [];
  const markRead = (peerId: number, upTo: number) => new Promise<number>((resolve, reject) => calls.push({ peerId, upTo, answer: resolve, fail: reject }));
  return { calls, markRead };
}
const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("ReadMarker: one read call for many tabs", () => {
  it("five tabs asking at once cost two calls: the first, then one for the four that waited, with the highest id", async () => {
    const server = scriptedServer();
    const marker = new ReadMarker(server.markRead);
    const first = marker.mark(2, 10);
    const waiting = [marker.mark(2, 10), marker.mark(2, 12), marker.mark(2, 11), marker.mark(2, 10)];
    await settled();
    expect(server.calls.map((c) => c.upTo)).toEqual([10]); // the others wait: the call in flight may have run before their message was stored
    server.calls[0]!.answer(3);
    expect(await first).toBe(3);
    await settled();
    expect(server.calls.map((c) => c.upTo)).toEqual([10, 12]);
    server.calls[1]!.answer(0);
    expect(await Promise.all(waiting)).toEqual([0, 0, 0, 0]);
    // Nothing in flight any more: the next request is its own call at once.
    const later = marker.mark(2, 13);
    await settled();
    expect(server.calls.map((c) => c.upTo)).toEqual([10, 12, 13]);
    server.calls[2]!.answer(0);
    expect(await later).toBe(0);
  });

  it("peers do not wait on each other", async () => {
    const server = scriptedServer();
    const marker = new ReadMarker(server.markRead);
    void marker.mark(2, 10);
    void marker.mark(3, 20);
    await settled();
    expect(server.calls.map((c) => [c.peerId, c.upTo])).toEqual([
      [2, 10],
      [3, 20],
    ]);
  });

  it("a failed call fails only its own requests; those that waited still get their call", async () => {
    const server = scriptedServer();
    const marker = new ReadMarker(server.markRead);
    const first = marker.mark(2, 10);
    const waiting = marker.mark(2, 11);
    server.calls[0]!.fail(new Error("503"));
    await expect(first).rejects.toThrow("503");
    await settled();
    expect(server.calls.map((c) => c.upTo)).toEqual([10, 11]);
    server.calls[1]!.answer(1);
    expect(await waiting).toBe(1);
  });

  it("a request made while the queued call is about to start joins it rather than running beside it", async () => {
    const server = scriptedServer();
    const marker = new ReadMarker(server.markRead);
    void marker.mark(2, 10);
    const queued = marker.mark(2, 11);
    server.calls[0]!.answer(1);
    // Asked in the same turn the answer settles, before the queued call started.
    const joined = marker.mark(2, 12);
    await settled();
    expect(server.calls.map((c) => c.upTo)).toEqual([10, 12]);
    server.calls[1]!.answer(0);
    expect(await Promise.all([queued, joined])).toEqual([0, 0]);
  });
});
