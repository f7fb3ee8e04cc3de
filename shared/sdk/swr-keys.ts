/** SWR cache keys of the tab SDK. Messages are keyed per conversation. */
export const SwrKey = {
  state: "switchboard/state",
  profile: "switchboard/profile",
  unread: "switchboard/unread",
  conversations: "switchboard/conversations",
  user: "switchboard/user",
  outbox: "switchboard/outbox",
} as const;

const MESSAGES_PREFIX = "switchboard/messages/";

export function messagesKey(peerId: number): string {
  return `${MESSAGES_PREFIX}${peerId}`;
}

export function isMessagesKey(key: unknown): boolean {
  return typeof key === "string" && key.startsWith(MESSAGES_PREFIX);
}
