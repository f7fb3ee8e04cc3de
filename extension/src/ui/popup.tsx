import { useConnectionState } from "../../../shared/sdk/index.js";
import { ConnectionBanner } from "./connection-banner.js";
import { ProfilePanel } from "./profile-panel.js";
import { UnreadCount } from "./unread-count.js";

/** The toolbar popup: unread count, profile, state, and a way into the chat. */
export function Popup({ onOpenChat }: { onOpenChat: () => void }) {
  const { user } = useConnectionState();
  return (
    <div className="popup">
      <ConnectionBanner />
      {user && <ProfilePanel editable={false} />}
      <UnreadCount as="p" />
      <button type="button" data-testid="open-chat" onClick={onOpenChat}>
        Open chat
      </button>
    </div>
  );
}
