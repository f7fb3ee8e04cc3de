import { describe, expect, it } from "vitest";
import { FrameErrorCode, parseClientFrame, parseServerFrame } from "../../shared/protocol/index.js";

describe("parseClientFrame", () => {
  it("accepts every client frame type", () => {
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ ok: true, frame: { type: "ping" } });
    expect(parseClientFrame('{"type":"resume","epoch":"e1","seq":3}').ok).toBe(true);
    expect(parseClientFrame('{"type":"send","clientMsgId":"c1","to":2,"body":"hi"}').ok).toBe(true);
    expect(parseClientFrame('{"type":"read","peerId":2,"upToMessageId":10}').ok).toBe(true);
  });
  it("rejects non-JSON, non-objects, unknown types and bad fields with distinct codes", () => {
    expect(parseClientFrame("nope")).toMatchObject({ ok: false, code: "bad_json" });
    expect(parseClientFrame("[1,2]")).toMatchObject({ ok: false, code: "invalid_frame" });
    expect(parseClientFrame("null")).toMatchObject({ ok: false, code: "invalid_frame" });
    expect(parseClientFrame('{"type":"hack"}')).toMatchObject({ ok: false, code: "unknown_type" });
    expect(parseClientFrame('{"type":"send","clientMsgId":"c","to":"x","body":"b"}')).toMatchObject({ ok: false, code: "invalid_frame" });
    expect(parseClientFrame('{"type":"send","clientMsgId":"c","to":2,"body":""}')).toMatchObject({ ok: false, code: "invalid_frame" });
  });
  it("does not accept server frames from a client", () => {
    expect(parseClientFrame('{"type":"welcome"}')).toMatchObject({ ok: false, code: "unknown_type" });
  });
});

describe("parseServerFrame", () => {
  it("accepts events of every kind", () => {
    const message = { id: 1, from: 1, to: 2, body: "x", clientMsgId: null, createdAt: "t", readAt: null };
    for (const event of [
      { kind: "message", message },
      { kind: "unread", count: 2 },
      { kind: "profile", etag: '"a"' },
    ]) {
      expect(parseServerFrame(JSON.stringify({ type: "event", seq: 1, epoch: "e", event })).ok).toBe(true);
    }
    expect(parseServerFrame('{"type":"event","seq":1,"epoch":"e","event":{"kind":"nope"}}').ok).toBe(false);
  });
  it("accepts a rate_limited error with retryAfterMs and the refused send's clientMsgId", () => {
    expect(FrameErrorCode.rateLimited).toBe("rate_limited");
    const parsed = parseServerFrame('{"type":"error","code":"rate_limited","message":"m","clientMsgId":"c1","retryAfterMs":250}');
    expect(parsed).toEqual({ ok: true, frame: { type: "error", code: "rate_limited", message: "m", clientMsgId: "c1", retryAfterMs: 250 } });
  });
});
