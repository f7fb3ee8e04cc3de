import { describe, expect, it } from "vitest";
import { EventKind, ServerFrameType, type ChatEvent, type ChatMessage, type ServerFrame } from "../../shared/protocol/index.js";
import { eventJson } from "../../server/src/realtime/event-json.js";
import { frameJson } from "../../server/src/ws/frame-json.js";

const message: ChatMessage = {
  id: 7,
  from: 1,
  to: 2,
  body: 'quotes " backslash \\ unicode ünï 😀 newline\nend',
  clientMsgId: "c-1",
  createdAt: new Date(0).toISOString(),
  readAt: null,
};
const events: ChatEvent[] = [
  { kind: EventKind.message, message },
  { kind: EventKind.unread, count: 3 },
  { kind: EventKind.profile, etag: 'W/"abc"' },
  { kind: EventKind.read, readerId: 2, upToMessageId: 7, readAt: new Date(1).toISOString() },
];

describe("frame JSON made once", () => {
  it("eventJson is JSON.stringify(event) for every event kind, also the second time", () => {
    for (const event of events) {
      expect(eventJson(event)).toBe(JSON.stringify(event));
      expect(eventJson(event)).toBe(JSON.stringify(event));
    }
  });

  it("a copy of a serialized event or message is serialized afresh, and nothing extra shows in its keys", () => {
    const event: ChatEvent = { kind: EventKind.message, message: { ...message } };
    const before = eventJson(event);
    const edited: ChatEvent = { ...event, message: { ...event.message, body: "edited" } };
    expect(eventJson(edited)).toBe(JSON.stringify(edited));
    expect(eventJson(edited)).not.toBe(before);
    expect(Object.keys(event)).toEqual(["kind", "message"]);
    expect({ ...event }).toEqual({ kind: EventKind.message, message: event.message });
    const frozen = Object.freeze({ kind: EventKind.unread, count: 1 }) satisfies ChatEvent;
    expect(eventJson(frozen)).toBe(JSON.stringify(frozen));
  });

  it("frameJson is JSON.stringify(frame) for event, ack (with and without the message) and other frames", () => {
    const frames: ServerFrame[] = [
      ...events.map((event, i): ServerFrame => ({ type: ServerFrameType.event, seq: i + 1, epoch: 'e"1', event })),
      { type: ServerFrameType.ack, clientMsgId: 'c"1', messageId: 7, message },
      { type: ServerFrameType.ack, clientMsgId: "c-2", messageId: 8 },
      { type: ServerFrameType.resumed, recovered: true, epoch: "e", seq: 4 },
    ];
    for (const frame of frames) expect(JSON.parse(frameJson(frame))).toEqual(JSON.parse(JSON.stringify(frame)));
    for (const frame of frames) expect(frameJson(frame)).toBe(JSON.stringify(frame));
  });
});
