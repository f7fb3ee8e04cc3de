import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeValue } from "../../server/src/cache/decode-value.js";
import { MAX_JSON_STRING_LEVELS } from "../../server/src/cache/limits.js";
import { parseJsonUnwrapping } from "../../server/src/cache/unwrap-json-string.js";

const USER = { id: 1, username: "alice" };

/** `USER` as JSON, then wrapped as a JSON string `levels` times (Python `json.dumps` applied again). */
function wrapped(levels: number, value: unknown = USER): string {
  let text = JSON.stringify(value);
  for (let i = 0; i < levels; i++) text = JSON.stringify(text);
  return text;
}

describe("legacy values wrapped as a JSON string more than once", () => {
  it("builds the issue's example for two levels", () => {
    expect(wrapped(2, { id: 1 })).toBe(String.raw`"\"{\\\"id\\\":1}\""`);
  });

  it("unwraps up to the bound, and reports how deep it went and the innermost JSON text", () => {
    expect(MAX_JSON_STRING_LEVELS).toBe(4);
    for (let levels = 0; levels <= MAX_JSON_STRING_LEVELS; levels++) {
      expect(parseJsonUnwrapping(wrapped(levels)), `${levels} levels`).toEqual({ ok: true, value: USER, levels, text: JSON.stringify(USER) });
    }
  });

  it("refuses a value nested deeper than the bound, saying so", () => {
    expect(parseJsonUnwrapping(wrapped(MAX_JSON_STRING_LEVELS + 1))).toEqual({
      ok: false,
      levels: MAX_JSON_STRING_LEVELS,
      reason: `JSON string nested more than ${MAX_JSON_STRING_LEVELS} levels deep`,
    });
    expect(parseJsonUnwrapping(wrapped(3), 2)).toMatchObject({ ok: false, reason: "JSON string nested more than 2 levels deep" });
  });

  it("reports malformed JSON at the outer level and at an inner one", () => {
    expect(parseJsonUnwrapping('{"id": 1')).toEqual({ ok: false, levels: 0, reason: "malformed JSON" });
    expect(parseJsonUnwrapping(JSON.stringify(JSON.stringify('{"id": 1')))).toEqual({
      ok: false,
      levels: 2,
      reason: "double-encoded JSON with malformed inner JSON",
    });
  });

  it("decodes 2 to 4 levels as v1-double-json with the innermost text as the record's JSON", async () => {
    for (let levels = 2; levels <= MAX_JSON_STRING_LEVELS; levels++) {
      const outcome = await decodeValue(Buffer.from(wrapped(levels)), { expectedId: 1 });
      expect(outcome, `${levels} levels`).toMatchObject({ kind: "data", format: "v1-double-json", data: USER });
      expect(String((outcome as { json: Buffer }).json)).toBe(JSON.stringify(USER));
    }
  });

  it("decodes a compressed value holding a twice-wrapped string", async () => {
    expect(await decodeValue(gzipSync(wrapped(2)), { expectedId: 1 })).toMatchObject({ kind: "data", format: "v1-gzip", data: USER });
  });

  it("reports a value past the bound as invalid, and a wrapped non-object too", async () => {
    expect(await decodeValue(Buffer.from(wrapped(MAX_JSON_STRING_LEVELS + 1)), { expectedId: 1 })).toEqual({
      kind: "invalid",
      format: "v1-double-json",
      reason: `JSON string nested more than ${MAX_JSON_STRING_LEVELS} levels deep`,
    });
    expect(await decodeValue(Buffer.from(wrapped(3, [1, 2])), { expectedId: 1 })).toMatchObject({ kind: "invalid", reason: "JSON that is not an object" });
  });

  it("never takes a wrapped v2 envelope for v1 data", async () => {
    const envelope = { schema_version: "2", content_type: "application/json", data: USER, created_at: "2025-01-01T00:00:00.000Z" };
    expect(await decodeValue(Buffer.from(wrapped(2, envelope)), { expectedId: 1 })).toMatchObject({
      kind: "invalid",
      reason: expect.stringMatching(/v2 envelope/),
    });
  });
});
