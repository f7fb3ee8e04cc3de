import type { ChatEvent } from "../../../shared/protocol/index.js";

/**
 * The seams between the WebSocket layer and where "who owns a user's connection" and "what
 * happened to a user" are kept: in process for one instance (`local-*.ts`), or in Redis (owner
 * record changed by a Lua compare-and-set, Streams, pub/sub) so several instances agree, with the
 * in-process versions as the fallback while Redis is down (`resilient.ts`). See
 * docs/architecture.md#where-state-lives.
 */

export interface OwnerClaim {
  userId: number;
  connId: string;
  instanceId: string;
}

export interface ClaimResult {
  /** Increases per user on every claim (across instances when Redis-backed). */
  generation: number;
  /** The connection that was current before this claim, if any — it must now be closed. */
  previous: { instanceId: string; connId: string } | null;
}

/**
 * The one place that decides which connection of a user is current. The socket server only
 * asks (`claim`, `localOwner`) and closes what `onReplaced` names.
 */
export interface OwnerRegistry {
  /**
   * Make `connId` the user's current connection in one atomic step. Every connection on this
   * instance that lost — the previous owner, or `connId` itself when a newer claim won while this
   * one was in flight — is reported to the `onReplaced` listeners, before or soon after this resolves.
   */
  claim(claim: OwnerClaim): Promise<ClaimResult>;
  /** Remove the owner record only if it is still `connId` (never removes a newer one). */
  release(userId: number, connId: string): Promise<boolean>;
  /** The user's current connection when this instance serves it. */
  localOwner(userId: number): string | undefined;
  /** How many users this instance serves the current connection of. */
  readonly localOwners: number;
  /** A connection on this instance is no longer its user's current one: close it. Returns the unsubscribe function. */
  onReplaced(listener: (userId: number, connId: string) => void): () => void;
  close(): Promise<void>;
}

export interface StoredEvent {
  epoch: string;
  seq: number;
  event: ChatEvent;
}

export interface EventCursor {
  epoch: string;
  seq: number;
}

export interface ReplayResult {
  /** false → the history does not cover the cursor (or the epoch changed): refetch over REST. */
  recovered: boolean;
  events: StoredEvent[];
  /** More events exist after the last one returned (replay is bounded per request). */
  more: boolean;
  head: EventCursor;
}

export interface EventLog {
  /** Append an event to the user's history, assigning the next `seq` in the current epoch. */
  append(userId: number, event: ChatEvent): Promise<StoredEvent>;
  /** The user's current epoch and last seq (seq 0 when nothing happened yet). */
  head(userId: number): Promise<EventCursor>;
  /** Events after `cursor.seq` in `cursor.epoch`, oldest first, at most `limit`. */
  since(userId: number, cursor: EventCursor, limit: number): Promise<ReplayResult>;
}

export interface EventBus {
  /** Deliver an appended event to wherever the user's socket lives. */
  publish(userId: number, stored: StoredEvent): Promise<void>;
  /** Receive events for users (this instance filters for its own sockets). Returns the unsubscribe function. */
  subscribe(listener: (userId: number, stored: StoredEvent) => void): () => void;
  close(): Promise<void>;
}
