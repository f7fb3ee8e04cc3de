import type { ChatMessage, Conversation, Profile } from "../protocol/index.js";
import { ConnectionState } from "./connection-state.js";
import type { OutboxEntry } from "./outbox-entry.js";

/** The signed-in user as the login response names them. */
export interface SessionUser {
  id: number;
  username: string;
  displayName: string;
  role: string;
}

export type { Conversation };

/**
 * Everything a tab needs to render at once, held by the service worker and kept in
 * `chrome.storage.session` so a restarted worker starts warm.
 */
export interface Snapshot {
  state: ConnectionState;
  user: SessionUser | null;
  profile: Profile | null;
  profileEtag: string | null;
  /** `Date.now()` of the last successful profile fetch or 304; 0 = never. */
  profileCheckedAt: number;
  unread: number;
  conversations: Conversation[];
  /** The most recent messages of this user, oldest first, at most `RECENT_MESSAGES_MAX`. */
  recent: ChatMessage[];
  /** Resume position of the event stream; null before the first `welcome`. */
  epoch: string | null;
  seq: number;
  /** Messages typed but not yet acknowledged (pending or failed), in the order they were typed. */
  outbox: OutboxEntry[];
}

export const RECENT_MESSAGES_MAX = 50;

export function emptySnapshot(): Snapshot {
  return {
    state: ConnectionState.signedOut,
    user: null,
    profile: null,
    profileEtag: null,
    profileCheckedAt: 0,
    unread: 0,
    conversations: [],
    recent: [],
    epoch: null,
    seq: 0,
    outbox: [],
  };
}
