import type { ChatMessage, Conversation, DirectoryUser } from "../protocol/index.js";

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
 * A message arrived or was sent: it becomes the peer's last message; one from the peer is unread.
 * Returns the same array for a message already seen (a replay), so callers can tell.
 */
export function withMessage(conversations: Conversation[], me: number, message: ChatMessage): Conversation[] {
  const peerId = message.from === me ? message.to : message.from;
  const incoming = isUnreadIncoming(message, me);
  const existing = conversations.find((c) => c.peerId === peerId);
  if (existing?.lastMessage && existing.lastMessage.id >= message.id) return conversations; // a replayed duplicate
  const updated: Conversation = {
    peerId,
    peerName: existing?.peerName ?? `#${peerId}`,
    lastMessage: message,
    unread: (existing?.unread ?? 0) + (incoming ? 1 : 0),
  };
  return existing ? conversations.map((c) => (c.peerId === peerId ? updated : c)) : [...conversations, updated];
}

export function withRead(conversations: Conversation[], peerId: number): Conversation[] {
  return conversations.map((c) => (c.peerId === peerId ? { ...c, unread: 0 } : c));
}
