import type { ChatMessage, Profile, ProfilePatch } from "../protocol/index.js";

export type { ProfilePatch };
import type { ConnectionState } from "./connection-state.js";
import type { OutboxEntry } from "./outbox-entry.js";
import type { Conversation, Snapshot } from "./snapshot.js";

/**
 * What travels between the service worker (the hub) and the tabs. Kinds are `as const` objects
 * so neither side writes a literal.
 */
export const HubMessageKind = {
  snapshot: "snapshot",
  state: "state",
  profile: "profile",
  unread: "unread",
  conversations: "conversations",
  message: "message",
  ack: "ack",
  /** `peerId` read my messages up to `upToMessageId`: they show "Read". */
  read: "read",
  /** The hub's outbox changed (queued, failed, retried, discarded, sent): the whole list, it is short. */
  outbox: "outbox",
  reply: "reply",
  /** Several of the above, in order, that happened within one frame: a tab applies them and renders once. */
  batch: "batch",
} as const;
export type HubMessageKind = (typeof HubMessageKind)[keyof typeof HubMessageKind];

/** Hub → tab. */
export type HubMessage =
  | { kind: typeof HubMessageKind.snapshot; snapshot: Snapshot }
  | { kind: typeof HubMessageKind.state; state: ConnectionState }
  | { kind: typeof HubMessageKind.profile; profile: Profile | null }
  | { kind: typeof HubMessageKind.unread; count: number }
  | { kind: typeof HubMessageKind.conversations; conversations: Conversation[] }
  | { kind: typeof HubMessageKind.message; message: ChatMessage }
  | { kind: typeof HubMessageKind.ack; clientMsgId: string; message: ChatMessage }
  | { kind: typeof HubMessageKind.outbox; entries: OutboxEntry[] }
  | { kind: typeof HubMessageKind.read; peerId: number; upToMessageId: number; readAt: string }
  | { kind: typeof HubMessageKind.reply; requestId: string; ok: true; result: unknown }
  | { kind: typeof HubMessageKind.reply; requestId: string; ok: false; error: string }
  | { kind: typeof HubMessageKind.batch; messages: BatchedHubMessage[] };

/** What a batch holds: broadcast changes only (a reply goes to one tab, and batches do not nest). */
export type BatchedHubMessage = Exclude<HubMessage, { kind: typeof HubMessageKind.reply | typeof HubMessageKind.batch }>;

/** The changes a hub message carries, in order: a batch's messages, or the message itself. */
export function flattenHubMessage(message: HubMessage): HubMessage[] {
  return message.kind === HubMessageKind.batch ? message.messages : [message];
}

export const TabRequestKind = {
  /** Send me the current snapshot (a tab that just opened, or a port that reconnected). */
  hello: "hello",
  signIn: "sign-in",
  signOut: "sign-out",
  useHere: "use-here",
  send: "send",
  /** Try a failed message again. */
  retrySend: "retry-send",
  /** Drop a failed message from the outbox. */
  discardSend: "discard-send",
  markRead: "mark-read",
  loadMessages: "load-messages",
  updateProfile: "update-profile",
} as const;
export type TabRequestKind = (typeof TabRequestKind)[keyof typeof TabRequestKind];

/** Tab → hub, with the result type each request resolves to. */
export interface TabRequestMap {
  [TabRequestKind.hello]: { params: Record<string, never>; result: Snapshot };
  [TabRequestKind.signIn]: { params: { username: string; password: string }; result: null };
  [TabRequestKind.signOut]: { params: Record<string, never>; result: null };
  [TabRequestKind.useHere]: { params: Record<string, never>; result: null };
  [TabRequestKind.send]: { params: { to: number; body: string; clientMsgId: string }; result: OutboxEntry };
  [TabRequestKind.retrySend]: { params: { clientMsgId: string }; result: null };
  [TabRequestKind.discardSend]: { params: { clientMsgId: string }; result: null };
  [TabRequestKind.markRead]: { params: { peerId: number; upToMessageId: number }; result: number };
  [TabRequestKind.loadMessages]: { params: { peerId: number }; result: ChatMessage[] };
  [TabRequestKind.updateProfile]: { params: ProfilePatch; result: Profile };
}

export type TabRequest = {
  [K in TabRequestKind]: { kind: K; requestId: string; params: TabRequestMap[K]["params"] };
}[TabRequestKind];
