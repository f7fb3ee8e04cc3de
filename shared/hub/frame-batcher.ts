import { HubMessageKind, type BatchedHubMessage, type HubMessage } from "../sdk/hub-messages.js";
import type { Timers } from "./connection.js";

/** One frame at 60 Hz: changes closer together than this are drawn in the same frame anyway. */
export const FRAME_MS = 16;

/** The wrapped `broadcast`, and `flush()`: send what waits for the end of the frame now. */
export interface FrameBatcher {
  (message: BatchedHubMessage): void;
  /** A leader handing over sends what the frame still holds before its channel closes. */
  flush(): void;
}

/**
 * Wraps the fan-out so a burst (a resume replay, a refetch, a busy conversation) costs every tab
 * one message and one render per frame instead of one per change. The first change after a quiet
 * frame goes out at once (no added latency); changes that follow within the frame are sent
 * together, in order, as one `batch` at its end.
 */
export function frameBatcher(broadcast: (message: HubMessage) => void, timers: Timers, frameMs = FRAME_MS): FrameBatcher {
  /** null: quiet, the next change goes out at once; otherwise what waits for the end of this frame. */
  let waiting: BatchedHubMessage[] | null = null;
  const send = (messages: BatchedHubMessage[]) => broadcast(messages.length === 1 ? messages[0]! : { kind: HubMessageKind.batch, messages });
  const endOfFrame = () => {
    if (waiting === null || waiting.length === 0) {
      waiting = null;
      return;
    }
    send(waiting);
    waiting = [];
    timers.setTimeout(endOfFrame, frameMs);
  };
  const fanOut = (message: BatchedHubMessage) => {
    if (waiting !== null) {
      waiting.push(message);
      return;
    }
    broadcast(message);
    waiting = [];
    timers.setTimeout(endOfFrame, frameMs);
  };
  return Object.assign(fanOut, {
    flush: () => {
      if (waiting === null || waiting.length === 0) return;
      const held = waiting;
      waiting = [];
      send(held);
    },
  });
}
