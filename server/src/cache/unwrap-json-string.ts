import { MAX_JSON_STRING_LEVELS } from "./limits.js";

/**
 * A parsed JSON-family value: the innermost value once every string wrapping is removed, how
 * many were removed, and the JSON text that value was parsed from (the record's exact text).
 */
export type UnwrappedJson = { ok: true; value: unknown; levels: number; text: string } | { ok: false; levels: number; reason: string };

/**
 * Parses `text` as JSON; while the result is a string, parses that string again, at most
 * `maxLevels` times (`MAX_JSON_STRING_LEVELS`). The one unwrapping used by the online read and,
 * through it, by the migration tool.
 */
export function parseJsonUnwrapping(text: string, maxLevels: number = MAX_JSON_STRING_LEVELS): UnwrappedJson {
  let current = text;
  for (let levels = 0; ; levels++) {
    let value: unknown;
    try {
      value = JSON.parse(current);
    } catch {
      return { ok: false, levels, reason: levels === 0 ? "malformed JSON" : "double-encoded JSON with malformed inner JSON" };
    }
    if (typeof value !== "string") return { ok: true, value, levels, text: current };
    if (levels === maxLevels) return { ok: false, levels, reason: `JSON string nested more than ${maxLevels} levels deep` };
    current = value;
  }
}
