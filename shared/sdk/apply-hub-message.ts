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
      return { ...snapshot, recent: mergeMessage(snapshot.recent, message.message, RECENT_MESSAGES_MAX) };
    case HubMessageKind.ack:
      return { ...snapshot, recent: mergeMessage(snapshot.recent, message.message, RECENT_MESSAGES_MAX) };
    case HubMessageKind.reply:
      return snapshot;
  }
}
