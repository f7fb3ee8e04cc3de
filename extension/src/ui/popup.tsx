import { useConnectionState, useUnreadCount } from "../../../shared/sdk/index.js";
import { ConnectionBanner } from "./connection-banner.js";
import { ProfilePanel } from "./profile-panel.js";

/** The toolbar popup: unread count, profile, state, and a way into the chat. */
export function Popup({ onOpenChat }: { onOpenChat: () => void }) {
  const unread = useUnreadCount();
  const { user } = useConnectionState();
  return (
    <div className="popup">
      <ConnectionBanner />
      {user && <ProfilePanel editable={false} />}
      <p className="unread" data-testid="unread-count" data-count={unread ?? 0}>
        {unread ?? 0} unread
      </p>
      <button type="button" data-testid="open-chat" onClick={onOpenChat}>
        Open chat
      </button>
    </div>
  );
}
