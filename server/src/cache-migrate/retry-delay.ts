import { backoff, BACKOFF_MAX_MS } from "../../../shared/protocol/index.js";

/** @default 100 ms base: a transient Redis error is usually over within a few hundred ms. */
export const MIGRATION_RETRY_BACKOFF = { baseMs: 100, maxMs: BACKOFF_MAX_MS } as const;

/**
 * Wait before retry `attempt` (0 first) of a failed Redis call of the migration tool: the
 * project's one `backoff()` (shared/protocol/backoff.ts) at the top of its range: 100, 200,
 * 400 ms with the default three retries, capped at 30 s for a large `--max-retries`. No jitter:
 * there is one tool process, no fleet to spread.
 */
export function migrationRetryDelay(attempt: number): number {
  return backoff(attempt, 1, MIGRATION_RETRY_BACKOFF);
}
