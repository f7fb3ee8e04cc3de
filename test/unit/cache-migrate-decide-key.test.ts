import { describe, expect, it } from "vitest";
import { decodeValueNow, type DecodeOutcome } from "../../server/src/cache/decode-value.js";
import { encodeEnvelope, envelopeBuilder, envelopeParts } from "../../server/src/cache/envelope.js";
import { MAX_INPUT_BYTES } from "../../server/src/cache/limits.js";
import { decideKey, type DecidePolicy, type KeyFacts } from "../../server/src/cache-migrate/decide-key.js";
import type { ReadItem } from "../../server/src/cache-migrate/key-store.js";

const STAMP = "2026-12-01T21:00:00.000Z";
const OWN_TAIL = envelopeParts(STAMP).tail;
const KEEP: DecidePolicy = { allowPickle: false, deleteUnparseable: false };
const DELETE: DecidePolicy = { allowPickle: false, deleteUnparseable: true };
const USER = { id: 42, username: "alice" };

function valueItem(value: Buffer | string): Extract<ReadItem, { state: "value" }> {
  return { key: "user:42", state: "value", ttl: "1m-10m", value: Buffer.from(value) };
}

/** Facts for a value as the run sees it: decoded by the real (online) decoder. */
function facts(item: ReadItem, extra: Partial<KeyFacts> = {}): KeyFacts {
  const outcome = item.state === "value" ? decodeValueNow(item.value, { expectedId: 42 }) : undefined;
  return { item, outcome, journaled: undefined, ownEnvelopeTail: OWN_TAIL, ...extra };
}

describe("decideKey: the migration tool's per-key decision", () => {
  it("rewrites a v1 JSON value as v2 around its own bytes (sent once)", () => {
    const item = valueItem(JSON.stringify(USER));
    const decision = decideKey(facts(item), KEEP);
    expect(decision).toMatchObject({ action: "write", seen: "v1-json", from: "v1-json", op: { key: "user:42", op: "set", expected: item.value } });
    expect(decision.action === "write" && decision.op.op === "set" && decision.op.json).toBe(item.value);
  });

  it("rewrites a double-encoded value around the inner JSON text", () => {
    const item = valueItem(JSON.stringify(JSON.stringify(USER)));
    const decision = decideKey(facts(item), KEEP);
    expect(decision).toMatchObject({ action: "write", seen: "v1-double-json", from: "v1-double-json" });
    expect(decision.action === "write" && decision.op.op === "set" && String(decision.op.json)).toBe(JSON.stringify(USER));
  });

  it("writes a decoded pickle as the JSON of its data (it has no JSON text of its own)", () => {
    const item = valueItem("\x80\x04...");
    const outcome: DecodeOutcome = { kind: "data", format: "v1-pickle", data: USER };
    const decision = decideKey(facts(item, { outcome }), KEEP);
    expect(decision).toMatchObject({ action: "write", from: "v1-pickle" });
    expect(decision.action === "write" && decision.op.op === "set" && String(decision.op.json)).toBe(JSON.stringify(USER));
  });

  it("skips a v2 value another writer made", () => {
    expect(decideKey(facts(valueItem(encodeEnvelope(USER, new Date("2025-01-01T00:00:00Z")))), KEEP)).toEqual({
      action: "settle",
      seen: "v2",
      outcome: { decision: "skipped" },
    });
  });

  it("counts a v2 value this run journaled as migrated, under the format it came from", () => {
    const own = valueItem(envelopeBuilder(STAMP)(Buffer.from(JSON.stringify(USER))));
    const decision = decideKey(facts(own, { journaled: { from: "v1-gzip", result: "set" } }), KEEP);
    expect(decision).toEqual({ action: "settle", seen: "v1-gzip", outcome: { decision: "migrated", from: "v1-gzip" } });
  });

  it("counts a v2 value this run wrote on an earlier page as a SCAN duplicate, not as a key again", () => {
    const own = valueItem(envelopeBuilder(STAMP)(Buffer.from(JSON.stringify(USER))));
    expect(decideKey(facts(own), KEEP)).toEqual({ action: "settle", seen: null, outcome: { decision: "duplicate" } });
  });

  it("counts a key gone after this run journaled its deletion as deleted, any other gone key as expired", () => {
    const absent: ReadItem = { key: "user:42", state: "absent" };
    expect(decideKey(facts(absent, { journaled: { from: "unknown", result: "deleted" } }), DELETE)).toEqual({
      action: "settle",
      seen: "unknown",
      outcome: { decision: "deleted", from: "unknown" },
    });
    expect(decideKey(facts(absent), KEEP)).toEqual({ action: "settle", seen: "absent", outcome: { decision: "expired" } });
    expect(decideKey(facts(absent, { journaled: { from: "v1-json", result: "set" } }), KEEP)).toMatchObject({ outcome: { decision: "expired" } });
  });

  it("keeps oversize and non-string keys, with the reason", () => {
    const oversize: ReadItem = { key: "user:42", state: "oversize", ttl: "no-ttl", length: MAX_INPUT_BYTES + 1 };
    expect(decideKey(facts(oversize), DELETE)).toEqual({
      action: "settle",
      seen: "oversize",
      outcome: {
        decision: "failed",
        format: "oversize",
        category: "oversize",
        reason: `${MAX_INPUT_BYTES + 1} bytes, over the ${MAX_INPUT_BYTES}-byte read cap`,
      },
    });
    expect(decideKey(facts({ key: "user:42", state: "non-string", ttl: "no-ttl" }), DELETE)).toMatchObject({
      action: "settle",
      seen: "non-string",
      outcome: { decision: "failed", category: "non-string" },
    });
  });

  it("skips an undecoded pickle, saying why", () => {
    const item = valueItem("\x80\x04...");
    const outcome: DecodeOutcome = { kind: "not-decoded", format: "v1-pickle", reason: "pickle is not decoded here" };
    expect(decideKey(facts(item, { outcome }), KEEP)).toEqual({
      action: "settle",
      seen: "v1-pickle",
      outcome: { decision: "pickle-skipped", reason: "--allow-pickle not given" },
    });
    expect(decideKey(facts(item, { outcome }), { ...KEEP, allowPickle: true })).toMatchObject({ outcome: { reason: "prefix not allowlisted for pickle" } });
  });

  it("keeps a rejected pickle even when deleting unparseable values", () => {
    const outcome: DecodeOutcome = { kind: "rejected", format: "v1-pickle", reason: "pickle rejected: global posix.system" };
    expect(decideKey(facts(valueItem("cposix\nsystem\n."), { outcome }), DELETE)).toEqual({
      action: "settle",
      seen: "v1-pickle",
      outcome: { decision: "failed", format: "v1-pickle", category: "pickle-rejected", reason: "pickle rejected: global posix.system" },
    });
  });

  it("keeps an unparseable value, or compare-and-deletes it when asked", () => {
    const item = valueItem('{"id": 42, "name": "trunc');
    expect(decideKey(facts(item), KEEP)).toEqual({
      action: "settle",
      seen: "v1-json",
      outcome: { decision: "failed", format: "v1-json", category: "unparseable", reason: "malformed JSON" },
    });
    expect(decideKey(facts(item), DELETE)).toEqual({
      action: "write",
      seen: "v1-json",
      from: "v1-json",
      op: { key: "user:42", op: "delete", expected: item.value },
    });
  });

  it("refuses to decide a value nobody decoded", () => {
    expect(() => decideKey(facts(valueItem("{}"), { outcome: undefined }), KEEP)).toThrow(/no decode outcome/);
  });
});
