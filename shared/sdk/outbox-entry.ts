/**
 * A message the user typed that the server has not acknowledged yet, as the hub's durable outbox
 * keeps it and the tabs show it. Sent messages leave the outbox (they are then ordinary
 * `ChatMessage`s, `read` once their `readAt` is set).
 */
export const OutboxState = {
  /** Stored; being sent or waiting for the network / the next attempt. */
  pending: "pending",
  /** Refused for good (or too old): shown with Retry and Discard, never retried by itself. */
  failed: "failed",
} as const;
export type OutboxState = (typeof OutboxState)[keyof typeof OutboxState];

export interface OutboxEntry {
  clientMsgId: string;
  to: number;
  body: string;
  /** `Date.now()` when the user sent it: its place in the conversation and the start of its age. */
  queuedAt: number;
  state: OutboxState;
  /** Failed attempts since it was queued (or retried by the user); drives the backoff. */
  attempts: number;
  /** `Date.now()` before which it is not tried again (backoff after a transient failure). */
  nextAttemptAt: number;
  /** Why it failed, in words for the user (the server's message or the bound it crossed). */
  failure?: string;
}
