import { isUnreadIncoming, withMessage } from "./conversations.js";
import { HubMessageKind, type HubMessage } from "./hub-messages.js";
import { mergeMessage, readBy } from "./merge-messages.js";
import { RECENT_MESSAGES_MAX, type Snapshot } from "./snapshot.js";

/**
 * The one reducer from a hub message to the next snapshot. The hub applies it before it
 * broadcasts, each tab applies it on receipt, so both hold the same picture.
 */
export function applyHubMessage(snapshot: Snapshot, message: HubMessage): Snapshot {
  switch (message.kind) {
    case HubMessageKind.snapshot:
      return message.snapshot;
    case HubMessageKind.state:
      return { ...snapshot, state: message.state };
    case HubMessageKind.profile:
      return { ...snapshot, profile: message.profile };
    case HubMessageKind.unread:
      return { ...snapshot, unread: message.count };
    case HubMessageKind.conversations:
      return { ...snapshot, conversations: message.conversations };
    case HubMessageKind.message:
    case HubMessageKind.ack: {
      // The conversation list and the unread count follow from the message itself, so a message
      // costs every tab one update, not three. The server's `unread` event that follows confirms
      // the count (and is not broadcast when it agrees) or corrects it.
      const me = snapshot.user?.id ?? 0;
      const conversations = withMessage(snapshot.conversations, me, message.message, snapshot.recent);
      const isNew = conversations !== snapshot.conversations;
      const counts = message.kind === HubMessageKind.message && isNew && isUnreadIncoming(message.message, me);
      return {
        ...snapshot,
        recent: mergeMessage(snapshot.recent, message.message, RECENT_MESSAGES_MAX),
        conversations,
        unread: snapshot.unread + (counts ? 1 : 0),
      };
    }
    case HubMessageKind.read:
      return { ...snapshot, recent: readBy(snapshot.recent, message.peerId, message.upToMessageId, message.readAt) };
    case HubMessageKind.outbox:
      return { ...snapshot, outbox: message.entries };
    case HubMessageKind.batch:
      return message.messages.reduce(applyHubMessage, snapshot);
    case HubMessageKind.reply:
      return snapshot;
  }
}
