/**
 * The coordinator's decisions as pure functions of what a tab heard and the clock, so they are
 * unit-tested with fakes. Numbers: a leader says it is alive every second; three silent seconds
 * plus up to one of jitter (so two followers rarely steal at once) mean it is frozen, throttled
 * to death or gone without a word, well inside the 10 s a frozen leader may cost.
 */
export const HEARTBEAT_MS = 1000;
export const TAKEOVER_AFTER_MS = 3000;
export const TAKEOVER_JITTER_MS = 1000;
/**
 * A follower's request still unanswered after this long goes to the leader again (a message can
 * fall between two leaders); sends are idempotent on `clientMsgId`, the other requests by nature.
 */
export const RESEND_AFTER_MS = 3000;
/** A new tab with no answer from a hub this long shows its last known state as reconnecting. */
export const HELLO_TIMEOUT_MS = 1500;
/** An extension tab announces itself this often; silent for `EXTENSION_GONE_MS` → tabs may elect again. */
export const EXTENSION_ANNOUNCE_MS = 1000;
export const EXTENSION_GONE_MS = 5000;

export interface HeardState {
  /** The highest leader term this tab has heard (0: none yet). */
  term: number;
  /** Clock time of the last heartbeat or hub message of that term, or when this tab started listening. */
  lastHeardAt: number;
  /** Clock time of the last `extension-present`; null: never. */
  extensionSeenAt: number | null;
}

/** Whether a message of `term` comes from the current leader or a newer one (else: a stale leader, ignored). */
export function isCurrentTerm(heard: HeardState, term: number): boolean {
  return term >= heard.term;
}

/** The term a tab takes when it becomes leader: above anything heard, and above any earlier run. */
export function nextTerm(heard: HeardState, now: number): number {
  return Math.max(heard.term + 1, now);
}

export function extensionPresent(heard: HeardState, now: number): boolean {
  return heard.extensionSeenAt !== null && now - heard.extensionSeenAt < EXTENSION_GONE_MS;
}

/**
 * A follower takes over when a leader existed and has been silent longer than the takeover
 * window (by the clock: a throttled follower's timer firing late must not count as silence it
 * did not measure), and no extension serves the origin. `jitter` is this tab's share of
 * `TAKEOVER_JITTER_MS`.
 */
export function shouldTakeOver(heard: HeardState, now: number, jitterMs: number, leaderHeld: boolean): boolean {
  if (!leaderHeld || extensionPresent(heard, now)) return false;
  return now - heard.lastHeardAt >= TAKEOVER_AFTER_MS + jitterMs;
}
