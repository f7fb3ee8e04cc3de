import { decompress, DecompressError, decompressSmall, type DecompressLimits } from "./decompress.js";
import { bomLength, detectLeadingFormat, type ValueFormat } from "./detect-format.js";
import { looksLikeEnvelope, unwrapEnvelope } from "./envelope.js";
import { parseJsonUnwrapping } from "./unwrap-json-string.js";
import { asUserRecord, type UserRecord } from "./user-record.js";

/**
 * Decodes one raw cache value into a user record, dispatching on its leading bytes.
 * Never throws: every failure is an outcome with a reason (for metrics and masked logs).
 *
 * A pickle is never parsed here: this module cannot even load the pickle walker, which lives
 * with the offline migration tool (`server/src/cache-migrate/`, docs/cache.md#two-folders). The
 * tool decodes pickles itself and hands every other value to this decoder.
 */
export type DecodeOutcome =
  /** A user record was recovered; for v1 JSON-family values `json` is the exact text it was parsed from. */
  | { kind: "data"; format: ValueFormat; data: UserRecord; json?: Buffer }
  /** A pickle: never decoded by this module (the migration tool may, with its flag). */
  | { kind: "not-decoded"; format: "v1-pickle"; reason: string }
  /** A pickle with content outside plain data (a global, object construction...): only the migration tool says so. */
  | { kind: "rejected"; format: "v1-pickle"; reason: string }
  /** Unknown bytes, corrupt JSON/compression, or not a user object. */
  | { kind: "invalid"; format: ValueFormat; reason: string };

export interface DecodeOptions extends DecompressLimits {
  /** The user id the key names; a record for another id is invalid. */
  expectedId?: number;
}

type JsonOutcome = { ok: true; format: ValueFormat; value: unknown; json?: Buffer } | { ok: false; format: ValueFormat; reason: string };

/** `{...}` → v2 envelope or v1 object; `"..."` → v1 object wrapped as a JSON string (up to `MAX_JSON_STRING_LEVELS` times). */
function decodeJsonFamily(value: Buffer, allowEnvelope: boolean): JsonOutcome {
  const start = bomLength(value);
  const text = value.toString("utf8", start);
  const format: ValueFormat = text.startsWith('"') ? "v1-double-json" : "v1-json";
  const parsed = parseJsonUnwrapping(text);
  if (!parsed.ok) return { ok: false, format, reason: parsed.reason };
  const inner = parsed.value;
  // The record's exact JSON text: the value's own bytes when it was not wrapped (the tool then sends them once).
  const json = parsed.levels === 0 ? value.subarray(start) : Buffer.from(parsed.text);
  if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return { ok: false, format, reason: "JSON that is not an object" };
  if (looksLikeEnvelope(inner)) {
    if (!allowEnvelope || format !== "v1-json") return { ok: false, format, reason: "a v2 envelope where only v1 data is expected" };
    const data = unwrapEnvelope(inner);
    return data ? { ok: true, format: "v2", value: data } : { ok: false, format: "v2", reason: "v2 envelope failed validation" };
  }
  return { ok: true, format, value: inner, json };
}

/** The outcome for a decoded value: data if it is a user object (of `expectedId`, when given), else invalid. */
export function recordOutcome(format: ValueFormat, value: unknown, expectedId: number | undefined, json?: Buffer): DecodeOutcome {
  const data = asUserRecord(value, expectedId);
  if (data) return json ? { kind: "data", format, data, json } : { kind: "data", format, data };
  const reason = asUserRecord(value) ? `record for another user id than ${expectedId}` : "not a user object (no integer id)";
  return { kind: "invalid", format, reason };
}

export async function decodeValue(value: Buffer, options: DecodeOptions = {}): Promise<DecodeOutcome> {
  const now = decodeValueNow(value, options);
  if (now) return now;
  const leading = detectLeadingFormat(value) as "gzip" | "zlib";
  let inflated: Buffer;
  try {
    inflated = await decompress(leading, value, options);
  } catch (error) {
    return inflateFailed(leading, error);
  }
  return decodeInflated(leading, inflated, options);
}

/**
 * `decodeValue` without a promise, for everything but a compressed value that has to be
 * inflated off the event loop (at least `inflateSyncBelowBytes`): then undefined. The migration
 * tool's hot path.
 */
export function decodeValueNow(value: Buffer, options: DecodeOptions = {}): DecodeOutcome | undefined {
  const leading = detectLeadingFormat(value);
  switch (leading) {
    case "json-object":
    case "json-string": {
      const json = decodeJsonFamily(value, true);
      return json.ok ? recordOutcome(json.format, json.value, options.expectedId, json.json) : { kind: "invalid", format: json.format, reason: json.reason };
    }
    case "gzip":
    case "zlib": {
      let inflated: Buffer | undefined;
      try {
        inflated = decompressSmall(leading, value, options);
      } catch (error) {
        return inflateFailed(leading, error);
      }
      return inflated && decodeInflated(leading, inflated, options);
    }
    case "pickle":
      return { kind: "not-decoded", format: "v1-pickle", reason: "pickle is not decoded here" };
    case "unknown":
      return { kind: "invalid", format: "unknown", reason: value.length === 0 ? "empty value" : "unrecognised leading bytes" };
  }
}

function inflateFailed(leading: "gzip" | "zlib", error: unknown): DecodeOutcome {
  return {
    kind: "invalid",
    format: leading === "gzip" ? "v1-gzip" : "v1-zlib",
    reason: error instanceof DecompressError ? error.message : "decompression failed",
  };
}

function decodeInflated(leading: "gzip" | "zlib", inflated: Buffer, options: DecodeOptions): DecodeOutcome {
  const format = leading === "gzip" ? "v1-gzip" : "v1-zlib";
  const innerLeading = detectLeadingFormat(inflated);
  if (innerLeading !== "json-object" && innerLeading !== "json-string") {
    return { kind: "invalid", format, reason: "compressed content is not JSON" };
  }
  const json = decodeJsonFamily(inflated, false);
  return json.ok ? recordOutcome(format, json.value, options.expectedId, json.json) : { kind: "invalid", format, reason: json.reason };
}
