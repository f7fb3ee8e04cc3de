import type { ChatEvent } from "../../../shared/protocol/index.js";

/**
 * The seams between the WebSocket layer and where "who owns a user's connection" and "what
 * happened to a user" are kept. Issue 2 runs them in process (`local-*.ts`); issue 4 backs them
 * with Redis (owner record + Lua CAS, Streams, pub/sub) so several instances agree. The local
 * versions are also what an instance falls back to while Redis is down.
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

export interface OwnerRegistry {
  /** Make `connId` the user's current connection in one atomic step. */
  claim(claim: OwnerClaim): Promise<ClaimResult>;
  /** Remove the owner record only if it is still `connId` (never removes a newer one). */
  release(userId: number, connId: string): Promise<boolean>;
  /** Called when another instance took over a connection that lives on this instance. Returns the unsubscribe function. */
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
