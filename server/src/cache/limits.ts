/**
 * Hard limits for reading `user:{id}` values (DESIGN.md §4). A legacy value bigger than
 * `MAX_INPUT_BYTES` is never read (checked with `STRLEN` first); a compressed value that
 * inflates past `MAX_OUTPUT_BYTES` is refused by zlib itself (`maxOutputLength`), so a
 * gzip bomb costs at most that much memory, never its full size.
 */
export const MAX_INPUT_BYTES = 10 * 1024 * 1024;
export const MAX_OUTPUT_BYTES = 100 * 1024 * 1024;

/** @default "user:" — the key prefix of the user cache. */
export const DEFAULT_KEY_PREFIX = "user:";
