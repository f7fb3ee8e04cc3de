import { withMessage } from "./conversations.js";
import { HubMessageKind, type HubMessage } from "./hub-messages.js";
import { mergeMessage } from "./merge-messages.js";
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
    case HubMessageKind.ack:
      // The conversation list follows from the message itself: one broadcast per message, not two.
      return {
        ...snapshot,
        recent: mergeMessage(snapshot.recent, message.message, RECENT_MESSAGES_MAX),
        conversations: withMessage(snapshot.conversations, snapshot.user?.id ?? 0, message.message),
      };
    case HubMessageKind.reply:
      return snapshot;
  }
}
