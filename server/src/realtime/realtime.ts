import type { ChatEvent } from "../../../shared/protocol/index.js";
import type { EventBus, EventLog, OwnerRegistry, StoredEvent } from "./ports.js";

/**
 * Everything the socket server needs to know who is current and what happened to a user. Built
 * by `createLocalRealtime` (one instance, in process) or `createRedisRealtime` (instances sharing
 * Redis, with in-process fallbacks while it is down).
 */
export interface Realtime {
  owners: OwnerRegistry;
  eventLog: EventLog;
  bus: EventBus;
  /** Append an event to the user's history and deliver it wherever their socket lives. */
  publish(userId: number, event: ChatEvent): Promise<StoredEvent>;
  /** For `/readyz`: false while a Redis-backed realtime serves from its in-process fallbacks. */
  isReady(): boolean;
  close(): Promise<void>;
}
