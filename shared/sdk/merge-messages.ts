import type { ChatMessage } from "../protocol/index.js";

/** A message as a tab shows it: `pending` until the server acknowledged it. */
export type TabMessage = ChatMessage & { pending?: boolean };

/**
 * Insert or replace `message` in an oldest-first list: the same id, or the same `clientMsgId`
 * (a pending message becoming acked), is replaced, so an event that arrives twice (ack + event,
 * or a replay after resume) is shown once. Returns a new array; keeps at most `max` newest.
 */
export function mergeMessage<T extends TabMessage>(list: readonly T[], message: T, max = Infinity): T[] {
  const index = list.findIndex(
    (existing) =>
      (existing.id === message.id && !existing.pending && !message.pending) ||
      (message.clientMsgId !== null && existing.clientMsgId === message.clientMsgId),
  );
  const next = index === -1 ? [...list, message] : list.map((existing, i) => (i === index ? message : existing));
  // Pending messages have no server id yet: keep them after every acked one.
  next.sort((a, b) => Number(Boolean(a.pending)) - Number(Boolean(b.pending)) || a.id - b.id);
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Whether `message` belongs to the conversation between `userId` and `peerId`. */
export function isInConversation(message: ChatMessage, userId: number, peerId: number): boolean {
  return (message.from === peerId && message.to === userId) || (message.from === userId && message.to === peerId);
}
