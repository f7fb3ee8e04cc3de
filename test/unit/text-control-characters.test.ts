import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { ClientFrameType, FrameErrorCode, multiLineText, parseClientFrame, singleLineText } from "../../shared/protocol/index.js";

const multi = v.pipe(v.string(), multiLineText());
const single = v.pipe(v.string(), singleLineText());
const ok = (schema: v.GenericSchema<unknown, string>, value: string) => v.safeParse(schema, value).success;

describe("text rules (shared/protocol/text.ts)", () => {
  it.each(["\u0000", "\u0001", "\u0008", "\u000b", "\u000c", "\u001b", "\u001f", "\u007f", "\u0080", "\u009f"])(
    "refuses the control character %j in any text",
    (control) => {
      expect(ok(multi, `a${control}b`)).toBe(false);
      expect(ok(single, `a${control}b`)).toBe(false);
    },
  );

  it("keeps tab, line feed and carriage return in multi-line text only", () => {
    for (const whitespace of ["\t", "\n", "\r"]) {
      expect(ok(multi, `a${whitespace}b`)).toBe(true);
      expect(ok(single, `a${whitespace}b`)).toBe(false);
    }
  });

  it("accepts ordinary text in any script, emoji and non-breaking space", () => {
    for (const text of ["héllo wörld", "你好", "שלום", "🙂👍🏽", "a\u00a0b", "zero\u200bwidth"]) {
      expect(ok(multi, text)).toBe(true);
      expect(ok(single, text)).toBe(true);
    }
  });

  it("makes a send frame with NUL an invalid_frame naming the field", () => {
    const result = parseClientFrame(JSON.stringify({ type: ClientFrameType.send, clientMsgId: "c1", to: 2, body: "x\u0000y" }));
    expect(result).toMatchObject({ ok: false, code: FrameErrorCode.invalidFrame });
    expect(!result.ok && result.message).toMatch(/^Invalid body: /);
  });
});
