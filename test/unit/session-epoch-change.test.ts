import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { ServerFrameType, type ServerFrame } from "../../shared/protocol/index.js";
import { createLogger } from "../../server/src/log/logger.js";
import { MemoryEventLog } from "../../server/src/realtime/memory-event-log.js";
import { Session } from "../../server/src/ws/session.js";

/** A stand-in socket that records what the session sends (the session's logic is the subject). */
function recordingSocket() {
  const sent: ServerFrame[] = [];
  const ws = { OPEN: 1, readyState: 1, ping: () => {}, send: (text: string) => sent.push(JSON.parse(text) as ServerFrame) } as unknown as WebSocket;
  return { ws, sent };
}

describe("Session delivery", () => {
  const logger = createLogger({ level: "silent" });

  it("tells the client to refetch (resumed recovered:false) when live events arrive in a new epoch", async () => {
    const log = new MemoryEventLog({ maxLen: 100, maxAgeMs: 60_000 });
    const { ws, sent } = recordingSocket();
    const session = new Session(ws, { userId: 1, connId: "c" }, { eventLog: log, logger, resumeMaxEvents: 100, holdMs: 0 });
    session.start({ generation: 1, head: { epoch: "old", seq: 7 }, heartbeat: { intervalMs: 1000, maxMissed: 3, onTimeout: () => {} } });
    await session.resume({ epoch: "old", seq: 7 }).catch(() => {});
    sent.length = 0;
    session.deliver({ epoch: "new", seq: 1, event: { kind: "unread", count: 3 } });
    await session.enqueue(() => {});
    expect(sent).toEqual([
      { type: ServerFrameType.resumed, recovered: false, epoch: "new", seq: 0 },
      { type: ServerFrameType.event, epoch: "new", seq: 1, event: { kind: "unread", count: 3 } },
    ]);
  });

  it("drops duplicates and fills a gap from the log, in order", async () => {
    const log = new MemoryEventLog({ maxLen: 100, maxAgeMs: 60_000 });
    const first = await log.append(1, { kind: "unread", count: 1 });
    const { ws, sent } = recordingSocket();
    const session = new Session(ws, { userId: 1, connId: "c" }, { eventLog: log, logger, resumeMaxEvents: 100, holdMs: 0 });
    session.start({ generation: 1, head: first, heartbeat: { intervalMs: 1000, maxMissed: 3, onTimeout: () => {} } });
    await session.resume({ epoch: first.epoch, seq: first.seq });
    sent.length = 0;
    const second = await log.append(1, { kind: "unread", count: 2 });
    const third = await log.append(1, { kind: "unread", count: 3 });
    session.deliver(third); // second is missing: fetched from the log first
    session.deliver(second); // late duplicate: dropped
    session.deliver(third); // duplicate: dropped
    await session.enqueue(() => {});
    expect(sent.map((f) => f.type === ServerFrameType.event && f.seq)).toEqual([2, 3]);
  });
});
