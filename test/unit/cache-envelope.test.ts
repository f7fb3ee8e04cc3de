import { describe, expect, it } from "vitest";
import {
  encodeEnvelope,
  encodeV1Json,
  ENVELOPE_DATA_OFFSET,
  envelopeBuilder,
  InvalidUserRecordError,
  unwrapEnvelope,
} from "../../server/src/cache/envelope.js";

const user = { id: 42, username: "alice", email: "alice@example.com" };

describe("v2 envelope", () => {
  it("writes the documented shape, in that field order", () => {
    const text = encodeEnvelope(user, new Date("2025-01-02T03:04:05.000Z"));
    expect(text).toBe(
      '{"schema_version":"2","content_type":"application/json","data":{"id":42,"username":"alice","email":"alice@example.com"},"created_at":"2025-01-02T03:04:05.000Z"}',
    );
    expect(unwrapEnvelope(JSON.parse(text))).toEqual(user);
  });

  it("refuses to write a record without an integer id", () => {
    expect(() => encodeEnvelope({ id: "42" })).toThrow(InvalidUserRecordError);
    expect(() => encodeEnvelope({ id: 1.5 })).toThrow(InvalidUserRecordError);
    expect(() => encodeV1Json({ name: "x" })).toThrow(InvalidUserRecordError);
  });

  it("rejects an envelope with any field wrong", () => {
    const good = JSON.parse(encodeEnvelope(user)) as Record<string, unknown>;
    for (const broken of [
      { ...good, schema_version: "3" },
      { ...good, schema_version: 2 },
      { ...good, content_type: "text/plain" },
      { ...good, created_at: "yesterday" },
      { ...good, data: { ...user, id: "42" } },
      { ...good, data: null },
      { ...good, extra: true },
    ]) {
      expect(unwrapEnvelope(broken), JSON.stringify(broken)).toBeNull();
    }
  });

  it("builds the same envelope around the exact JSON text (the migration path)", () => {
    const json = Buffer.from('{"id": 42, "username": "alice"}');
    const built = envelopeBuilder("2025-01-02T03:04:05Z")(json);
    expect(unwrapEnvelope(JSON.parse(built.toString()))).toEqual({ id: 42, username: "alice" });
    expect(built.subarray(ENVELOPE_DATA_OFFSET, ENVELOPE_DATA_OFFSET + json.length)).toEqual(json);
    expect(() => envelopeBuilder("not a date")).toThrow(InvalidUserRecordError);
  });
});
