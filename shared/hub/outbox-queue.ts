import { backoff, RATE_LIMITED_RECONNECT_MIN_MS } from "../protocol/backoff.js";
import { OutboxState, type OutboxEntry } from "../sdk/outbox-entry.js";

/** The longest wait a server's `Retry-After` can impose on one queued message. */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;

/** The outbox's bounds (configurable per build, see the README's configuration table). */
export interface OutboxBounds {
  /** Messages queued at once (pending and failed) before a new one is refused. @default 500 */
  maxMessages: number;
  /** Age after which a pending message stops being retried and is marked failed. @default 604800000 (7 days) */
  maxAgeMs: number;
}

export const OUTBOX_MAX_MESSAGES = 500;
export const OUTBOX_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const defaultOutboxBounds: OutboxBounds = { maxMessages: OUTBOX_MAX_MESSAGES, maxAgeMs: OUTBOX_MAX_AGE_MS };

/** What a failed attempt means for the message. */
export const FailureKind = {
  /** Network, 5xx, 429, 401/403 (the hub refreshes or asks to sign in): try again later. */
  transient: "transient",
  /** Any other 4xx, or the server's refusal on the socket: the same request would fail again. */
  permanent: "permanent",
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/** `status` is the HTTP status of a REST refusal; undefined for a network error or a lost socket. */
export function classifyFailure(status: number | undefined): FailureKind {
  if (status === undefined) return FailureKind.transient;
  if (status === 408 || status === 429 || status === 401 || status === 403) return FailureKind.transient;
  return status >= 400 && status < 500 ? FailureKind.permanent : FailureKind.transient;
}

export class OutboxFullError extends Error {
  constructor(maxMessages: number) {
    super(
      `${maxMessages} messages are already waiting to be sent: this one was not queued. ` +
        "Wait until the connection is back (or discard failed messages) and send it again.",
    );
  }
}

/** A new message at the end of the queue, or the error that says why it cannot be queued. */
export function enqueue(entries: readonly OutboxEntry[], entry: OutboxEntry, bounds: OutboxBounds): OutboxEntry[] {
  if (entries.some((existing) => existing.clientMsgId === entry.clientMsgId)) return [...entries];
  if (entries.length >= bounds.maxMessages) throw new OutboxFullError(bounds.maxMessages);
  return [...entries, entry];
}

/** Pending messages older than `maxAgeMs` become failed: after a week the user decides, not the hub. */
export function expire(entries: readonly OutboxEntry[], now: number, bounds: OutboxBounds): OutboxEntry[] {
  return entries.map((entry) =>
    entry.state === OutboxState.pending && now - entry.queuedAt > bounds.maxAgeMs
      ? { ...entry, state: OutboxState.failed, failure: `Not sent within ${formatAge(bounds.maxAgeMs)}: retry or discard it.` }
      : entry,
  );
}

/**
 * The messages to send now, one per conversation: the oldest pending message of each conversation
 * whose backoff has passed. A conversation whose oldest pending message waits sends nothing, so a
 * later message never overtakes an earlier one. Failed messages do not block the ones after them.
 */
export function nextToSend(entries: readonly OutboxEntry[], now: number): OutboxEntry[] {
  const heads = new Map<number, OutboxEntry>();
  for (const entry of entries) if (entry.state === OutboxState.pending && !heads.has(entry.to)) heads.set(entry.to, entry);
  return [...heads.values()].filter((entry) => entry.nextAttemptAt <= now);
}

/** When the next waiting head is due (heads in `inFlight` wait for their outcome), or null. */
export function nextAttemptAt(entries: readonly OutboxEntry[], inFlight: ReadonlySet<string> = new Set()): number | null {
  const heads = new Map<number, OutboxEntry>();
  for (const entry of entries) if (entry.state === OutboxState.pending && !heads.has(entry.to)) heads.set(entry.to, entry);
  let earliest: number | null = null;
  for (const entry of heads.values()) {
    if (inFlight.has(entry.clientMsgId)) continue;
    if (earliest === null || entry.nextAttemptAt < earliest) earliest = entry.nextAttemptAt;
  }
  return earliest;
}

/** The entry after a failed attempt: failed for good, or pending with its next attempt pushed back. */
export function afterFailure(
  entry: OutboxEntry,
  failure: { kind: FailureKind; message: string; status?: number; retryAfterMs?: number },
  now: number,
  random: number,
  backoffBaseMs?: number,
): OutboxEntry {
  if (failure.kind === FailureKind.permanent) return { ...entry, state: OutboxState.failed, failure: failure.message };
  const delay = backoff(entry.attempts, random, { baseMs: backoffBaseMs });
  return { ...entry, attempts: entry.attempts + 1, nextAttemptAt: now + Math.max(delay, waitAtLeast(failure)) };
}

/**
 * The server's own "not before" (`Retry-After`, or `retryAfterMs` on a refused send), capped at
 * `RETRY_AFTER_MAX_MS` so a wrong header cannot park a message for days; a 429 without one waits
 * the budgets' whole burst window.
 */
function waitAtLeast(failure: { status?: number; retryAfterMs?: number }): number {
  const told = failure.retryAfterMs;
  if (told !== undefined && Number.isFinite(told) && told >= 0) return Math.min(told, RETRY_AFTER_MAX_MS);
  return failure.status === 429 ? RATE_LIMITED_RECONNECT_MIN_MS : 0;
}

/** The user's Retry: pending again, tried at once, with a fresh age. */
export function retried(entry: OutboxEntry, now: number): OutboxEntry {
  const { failure: _failure, ...rest } = entry;
  return { ...rest, state: OutboxState.pending, attempts: 0, nextAttemptAt: now, queuedAt: now };
}

/** Back online: every waiting message is due now (the backoff was for an unreachable server). */
export function dueNow(entries: readonly OutboxEntry[], now: number): OutboxEntry[] {
  return entries.map((entry) => (entry.state === OutboxState.pending && entry.nextAttemptAt > now ? { ...entry, nextAttemptAt: now } : entry));
}

function formatAge(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  return hours >= 48 ? `${Math.round(hours / 24)} days` : hours >= 1 ? `${hours} hours` : `${Math.round(ms / 60_000)} minutes`;
}
