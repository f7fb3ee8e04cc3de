import type { ChatMessage, Conversation, DirectoryUser } from "../protocol/index.js";
import { RECENT_MESSAGES_MAX } from "./snapshot.js";

/** @deprecated the REST contract's name is `DirectoryUser`; this alias goes when the hub moves to `shared/`. */
export type UserRow = DirectoryUser;

/** Everyone the user can chat with, joined with the server's per-peer conversation rows. */
export function mergeConversations(me: number, users: DirectoryUser[], rows: Conversation[]): Conversation[] {
  const byPeer = new Map(rows.map((row) => [row.peerId, row]));
  const list = users
    .filter((user) => user.id !== me)
    .map((user) => byPeer.get(user.id) ?? { peerId: user.id, peerName: user.displayName, lastMessage: null, unread: 0 });
  for (const row of rows) if (!list.some((c) => c.peerId === row.peerId)) list.push(row);
  return list;
}

/** A message to `me` from someone else that nobody has read yet. */
export function isUnreadIncoming(message: ChatMessage, me: number): boolean {
  return message.to === me && message.from !== me && message.readAt === null;
}

/**
 * A message arrived or was sent: the peer's last message is the newest (highest id) one; one from
 * the peer is unread. Returns the same array for a message already seen (a replay), so callers
 * can tell. `recent` is the snapshot's recent messages before this one (oldest first, at most
 * `RECENT_MESSAGES_MAX`).
 *
 * Older than the conversation's last message does not mean seen: both sides' sends are stored by
 * different writers, so the peer's message 105 can arrive after my own 106 that was committed
 * first. It is a replay only if it is in `recent`, or older than everything a full `recent` holds.
 */
export function withMessage(conversations: Conversation[], me: number, message: ChatMessage, recent: readonly ChatMessage[] = []): Conversation[] {
  const peerId = message.from === me ? message.to : message.from;
  const incoming = isUnreadIncoming(message, me);
  const existing = conversations.find((c) => c.peerId === peerId);
  const last = existing?.lastMessage;
  if (last && last.id >= message.id && (last.id === message.id || seenBefore(message, recent))) return conversations;
  const updated: Conversation = {
    peerId,
    peerName: existing?.peerName ?? `#${peerId}`,
    lastMessage: last && last.id > message.id ? last : message,
    unread: (existing?.unread ?? 0) + (incoming ? 1 : 0),
  };
  return existing ? conversations.map((c) => (c.peerId === peerId ? updated : c)) : [...conversations, updated];
}

function seenBefore(message: ChatMessage, recent: readonly ChatMessage[]): boolean {
  if (recent.some((m) => m.id === message.id)) return true;
  return recent.length >= RECENT_MESSAGES_MAX && message.id < recent[0]!.id;
}

export function withRead(conversations: Conversation[], peerId: number): Conversation[] {
  return conversations.map((c) => (c.peerId === peerId ? { ...c, unread: 0 } : c));
}
