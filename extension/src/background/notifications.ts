import { isUnreadIncoming } from "../../../shared/sdk/conversations.js";
import { flattenHubMessage, HubMessageKind, type HubMessage } from "../../../shared/sdk/hub-messages.js";
import type { Snapshot } from "../../../shared/sdk/snapshot.js";

/** `storage.local` key of the Options toggle: `true` once the user turned notifications on. @default false */
export const NOTIFICATIONS_KEY = "notifications-enabled";
const ID_PREFIX = "switchboard-conversation-";

export function notificationId(peerId: number): string {
  return `${ID_PREFIX}${peerId}`;
}

/** The conversation a notification stands for, or null for another extension's id. */
export function peerOfNotification(id: string): number | null {
  if (!id.startsWith(ID_PREFIX)) return null;
  const peerId = Number(id.slice(ID_PREFIX.length));
  return Number.isInteger(peerId) ? peerId : null;
}

export interface NotifierDeps {
  /** The Options toggle (off until the user turns it on). */
  enabled: () => Promise<boolean>;
  /** Whether a Switchboard tab is the active tab of the focused window. */
  switchboardFocused: () => Promise<boolean>;
  show: (id: string, title: string, message: string) => Promise<void>;
  clear: (id: string) => Promise<void>;
  shownIds: () => Promise<string[]>;
}

/**
 * Desktop notifications for new messages while no Switchboard tab is focused: one per
 * conversation, updated as more arrive (same id), cleared once the conversation is read anywhere.
 * The text is UI only — nothing here is logged.
 */
export function notifier(deps: NotifierDeps) {
  return async (message: HubMessage, snapshot: Snapshot): Promise<void> => {
    const me = snapshot.user?.id ?? 0;
    for (const change of flattenHubMessage(message)) {
      if (change.kind === HubMessageKind.message && isUnreadIncoming(change.message, me)) {
        if (!(await deps.enabled()) || (await deps.switchboardFocused())) continue;
        const conversation = snapshot.conversations.find((c) => c.peerId === change.message.from);
        const unread = Math.max(1, conversation?.unread ?? 1);
        const title = conversation?.peerName ?? "New message";
        await deps.show(notificationId(change.message.from), title, unread > 1 ? `${unread} new messages — ${change.message.body}` : change.message.body);
      }
    }
    if (flattenHubMessage(message).some((change) => change.kind !== HubMessageKind.message)) {
      // Read here or elsewhere (the conversation's unread fell to 0), or signed out: clear.
      for (const id of await deps.shownIds()) {
        const peerId = peerOfNotification(id);
        if (peerId === null) continue;
        const conversation = snapshot.conversations.find((c) => c.peerId === peerId);
        if (!snapshot.user || !conversation || conversation.unread === 0) await deps.clear(id);
      }
    }
  };
}
