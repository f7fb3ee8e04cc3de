/**
 * Reconnect delay: `min(30 s, 1 s × 2^attempt)` with "full jitter" between half and the whole
 * of that value, so a fleet of clients spreads out after an outage.
 * Source: AWS Architecture Blog, "Exponential Backoff And Jitter" (2015); centrifuge-js
 * `src/utils.ts` `backoff()`.
 */

export interface BackoffOptions {
  /** @default 1000 */
  baseMs?: number;
  /** @default 30000 */
  maxMs?: number;
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;
/** Upper bound of the extra spread of the first reconnect after `1012 Service restart`. */
export const RESTART_JITTER_MAX_MS = 5000;
/**
 * The shortest first delay after `4029 Rate limited`: the burst window of the server's budgets
 * (10 s), so the client comes back with its budget refilled instead of being limited again.
 */
export const RATE_LIMITED_RECONNECT_MIN_MS = 10_000;
/** A connection must stay open this long before the attempt counter resets (not on open). */
export const BACKOFF_RESET_AFTER_MS = 10_000;

/**
 * @param attempt 0 for the first retry.
 * @param random a number in [0, 1), e.g. `Math.random()`.
 * @returns milliseconds to wait, in [cap/2, cap] where cap = min(max, base × 2^attempt).
 */
export function backoff(attempt: number, random: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? BACKOFF_BASE_MS;
  const max = options.maxMs ?? BACKOFF_MAX_MS;
  const safeAttempt = Math.max(0, Math.min(Math.floor(attempt), 30));
  const cap = Math.min(max, base * 2 ** safeAttempt);
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(cap / 2 + (cap / 2) * r);
}

/** The first delay after `1012 Service restart`: spread 0–5 s so instances are not stampeded. */
export function restartJitter(random: number, maxMs: number = RESTART_JITTER_MAX_MS): number {
  return Math.round(Math.min(Math.max(random, 0), 1) * maxMs);
}
