import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { asUserRecord, UserRecordSchema } from "../../server/src/cache/user-record.js";

/** Parsed JSON as the decoders see it, plus what a pickle walk can produce. */
const CASES: unknown[] = [
  { id: 42, username: "alice" },
  { id: 0 },
  { id: -1 },
  { id: 1.5 },
  { id: Number.MAX_SAFE_INTEGER + 1 },
  { id: "42" },
  { id: null },
  { username: "no id" },
  {},
  [],
  [{ id: 42 }],
  null,
  42,
  "42",
];

describe("asUserRecord: what counts as a user object", () => {
  it.each(CASES.map((value) => [JSON.stringify(value), value]))("accepts %s exactly when UserRecordSchema does", (_name, value) => {
    expect(asUserRecord(value) !== null).toBe(v.is(UserRecordSchema, value) && !Array.isArray(value));
  });

  it("returns the object itself, with every field, and only for the expected id when one is given", () => {
    const record = { id: 42, username: "alice", nested: { a: [1] } };
    expect(asUserRecord(record)).toBe(record);
    expect(asUserRecord(record, 42)).toBe(record);
    expect(asUserRecord(record, 43)).toBeNull();
  });
});
