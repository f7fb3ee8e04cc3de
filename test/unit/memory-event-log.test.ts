import { describe, expect, it } from "vitest";
import { MemoryEventLog } from "../../server/src/realtime/memory-event-log.js";

const unread = (count: number) => ({ kind: "unread" as const, count });

describe("MemoryEventLog", () => {
  it("assigns increasing seqs per user within an epoch and replays bounded pages", async () => {
    const log = new MemoryEventLog({ maxLen: 100, maxAgeMs: 60_000 });
    for (let i = 1; i <= 10; i++) await log.append(1, unread(i));
    await log.append(2, unread(1));
    const head = await log.head(1);
    expect(head.seq).toBe(10);
    expect((await log.head(2)).seq).toBe(1);
    const page = await log.since(1, { epoch: head.epoch, seq: 3 }, 4);
    expect(page.recovered).toBe(true);
    expect(page.events.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    expect(page.more).toBe(true);
    expect((await log.since(1, { epoch: head.epoch, seq: 10 }, 4)).events).toEqual([]);
  });
  it("says recovered:false when the history no longer covers the cursor or the epoch differs", async () => {
    let now = 0;
    const log = new MemoryEventLog({ maxLen: 3, maxAgeMs: 1000, now: () => now });
    for (let i = 1; i <= 5; i++) await log.append(1, unread(i));
    const { epoch } = await log.head(1);
    expect((await log.since(1, { epoch, seq: 1 }, 10)).recovered).toBe(false); // trimmed by length
    expect((await log.since(1, { epoch, seq: 2 }, 10)).events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await log.since(1, { epoch: "other", seq: 5 }, 10)).recovered).toBe(false);
    now = 5000;
    expect((await log.since(1, { epoch, seq: 2 }, 10)).recovered).toBe(false); // trimmed by age
  });
});
