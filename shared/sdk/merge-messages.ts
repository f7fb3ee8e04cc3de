import type { ChatMessage } from "../protocol/index.js";

/** A message as a tab shows it: `pending` until the server acknowledged it. */
export type TabMessage = ChatMessage & {
  pending?: boolean;
  /** Why the hub's outbox gave up on it (the user may retry or discard it). */
  failed?: string;
};

/** How many messages a tab keeps per open conversation (the newest): the list it renders stays bounded. */
export const CONVERSATION_MESSAGES_MAX = 200;

/** Oldest first; pending messages have no server id yet, so they go after every acked one. */
function compareMessages(a: TabMessage, b: TabMessage): number {
  return Number(Boolean(a.pending)) - Number(Boolean(b.pending)) || a.id - b.id;
}

/**
 * Insert or replace `message` in an oldest-first list: the same id, or the same `clientMsgId`
 * (a pending message becoming acked), is replaced, so an event that arrives twice (ack + event,
 * or a replay after resume) is shown once. Returns a new array (the other messages keep their
 * identity); keeps at most `max` newest. A new message usually belongs at the end: it is placed
 * by a short scan from there, not by sorting the whole list on every event.
 */
export function mergeMessage<T extends TabMessage>(list: readonly T[], message: T, max = Infinity): T[] {
  const index = list.findIndex(
    (existing) =>
      (existing.id === message.id && !existing.pending && !message.pending) || (message.clientMsgId !== null && existing.clientMsgId === message.clientMsgId),
  );
  let next: T[];
  if (index !== -1) {
    next = list.map((existing, i) => (i === index ? message : existing));
    next.sort(compareMessages); // a pending message that was acked may move
  } else {
    let at = list.length;
    while (at > 0 && compareMessages(list[at - 1]!, message) > 0) at--;
    next = [...list.slice(0, at), message, ...list.slice(at)];
  }
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Whether `message` belongs to the conversation between `userId` and `peerId`. */
export function isInConversation(message: ChatMessage, userId: number, peerId: number): boolean {
  return (message.from === peerId && message.to === userId) || (message.from === userId && message.to === peerId);
}

/** My messages to `peerId` up to `upToMessageId` marked read at `readAt` (the list itself when none changes). */
export function readBy<T extends ChatMessage>(list: T[], peerId: number, upToMessageId: number, readAt: string): T[] {
  let changed = false;
  const next = list.map((message) => {
    if (message.to !== peerId || message.id > upToMessageId || message.readAt !== null) return message;
    changed = true;
    return { ...message, readAt };
  });
  return changed ? next : list;
}
