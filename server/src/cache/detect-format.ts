/**
 * Which format a raw `user:{id}` value is in, decided from its leading bytes only, never by
 * trying parsers in turn: a value is parsed only the one way its first bytes announce
 * (docs/cache.md#legacy-formats). The JSON family (`{`, `"`) is split into v2 / v1-json /
 * v1-double-json later, by `decode-value.ts`, once the JSON is parsed.
 */
export const VALUE_FORMATS = ["v2", "v1-json", "v1-double-json", "v1-gzip", "v1-zlib", "v1-pickle", "unknown"] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];

/** What the leading bytes say, before any parsing. */
export type LeadingFormat = "json-object" | "json-string" | "gzip" | "zlib" | "pickle" | "unknown";

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** Bytes to skip before the value proper: a UTF-8 byte order mark, which some writers added. */
export function bomLength(value: Uint8Array): number {
  return value[0] === UTF8_BOM[0] && value[1] === UTF8_BOM[1] && value[2] === UTF8_BOM[2] ? 3 : 0;
}

/**
 * RFC 1950 §2.2: CMF 0x78 is deflate with a 32 KiB window; (CMF·256 + FLG) must be a multiple
 * of 31, and FDICT (bit 5 of FLG) is never set by Python's `zlib.compress`. That accepts exactly
 * the four levels Python writes: 78 01, 78 5e, 78 9c, 78 da.
 */
export function isZlibHeader(cmf: number | undefined, flg: number | undefined): boolean {
  if (cmf !== 0x78 || flg === undefined) return false;
  return (cmf * 256 + flg) % 31 === 0 && (flg & 0x20) === 0;
}

// Protocol 0/1 pickles have no PROTO opcode; a user dict starts with MARK `(` + DICT (`(dp0`),
// EMPTY_DICT `}`, or with a GLOBAL `c` (how hand-written malicious pickles start). Every pickle
// ends with STOP `.`, which keeps random bytes from being taken for one.
const PICKLE_LEGACY_FIRST = new Set([0x28 /* ( */, 0x7d /* } */, 0x5d /* ] */, 0x63 /* c */, 0x29 /* ) */]);
const PICKLE_STOP = 0x2e;

export function detectLeadingFormat(value: Uint8Array): LeadingFormat {
  const start = bomLength(value);
  const first = value[start];
  const second = value[start + 1];
  if (first === undefined) return "unknown";
  if (first === 0x7b /* { */) return "json-object";
  if (first === 0x22 /* " */) return "json-string";
  if (start > 0) return "unknown"; // a BOM only ever precedes text
  if (first === 0x1f && second === 0x8b) return "gzip";
  if (isZlibHeader(first, second)) return "zlib";
  if (first === 0x80 && second !== undefined && second >= 2 && second <= 5) return "pickle";
  if (PICKLE_LEGACY_FIRST.has(first) && value.length >= 2 && value[value.length - 1] === PICKLE_STOP) return "pickle";
  return "unknown";
}
