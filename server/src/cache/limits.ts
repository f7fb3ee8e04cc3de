/**
 * Hard limits for reading `user:{id}` values (docs/cache.md#limits). A legacy value bigger than
 * `MAX_INPUT_BYTES` is never read (checked with `STRLEN` first); a compressed value that
 * inflates past `MAX_OUTPUT_BYTES` is refused by zlib itself (`maxOutputLength`), so a
 * gzip bomb costs at most that much memory, never its full size.
 */
export const MAX_INPUT_BYTES = 10 * 1024 * 1024;
export const MAX_OUTPUT_BYTES = 100 * 1024 * 1024;

/**
 * How many times a legacy value may be wrapped as a JSON string: `"{\"id\":1}"` is one level
 * (the legacy writer's `json.dumps` of an already serialized value), `"\"{\\\"id\\\":1}\""`
 * two. Values wrapped twice and more are in production caches. Each level costs one more
 * `JSON.parse` of at most the value's size, so the bound keeps any value at five parses; one
 * nested deeper is not read (unparseable; docs/cache.md#legacy-formats).
 */
export const MAX_JSON_STRING_LEVELS = 4;

/** @default "user:" — the key prefix of the user cache. */
export const DEFAULT_KEY_PREFIX = "user:";
