// The online cache only. The offline migration tool is `../cache-migrate/` (its own index):
// it imports this folder, never the other way round (docs/cache.md#two-folders).
export { UserCache, type UserCacheOptions, type UserRecord } from "./user-cache.js";
export { cacheCommands, readCapped, type CacheCommands, type CacheCommandsPipeline } from "./cache-commands.js";
export { decodeValue, type DecodeOptions, type DecodeOutcome } from "./decode-value.js";
export { detectLeadingFormat, isZlibHeader, VALUE_FORMATS, type LeadingFormat, type ValueFormat } from "./detect-format.js";
export { decompress, DecompressError } from "./decompress.js";
export { encodeEnvelope, encodeV1Json, EnvelopeSchema, InvalidUserRecordError, unwrapEnvelope, type Envelope } from "./envelope.js";
export { DEFAULT_KEY_PREFIX, MAX_INPUT_BYTES, MAX_JSON_STRING_LEVELS, MAX_OUTPUT_BYTES } from "./limits.js";
export { parseJsonUnwrapping, type UnwrappedJson } from "./unwrap-json-string.js";
export { asUserRecord, userIdFromKey, UserRecordSchema } from "./user-record.js";
