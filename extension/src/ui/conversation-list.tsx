import { useConversations } from "../../../shared/sdk/index.js";

export function ConversationList({ selected, onSelect }: { selected: number | null; onSelect: (peerId: number) => void }) {
  const conversations = useConversations();
  return (
    <ul className="conversations" data-testid="conversations">
      {conversations.map((c) => (
        <li key={c.peerId}>
          <button
            type="button"
            className={c.peerId === selected ? "selected" : ""}
            data-testid={`conversation-${c.peerId}`}
            onClick={() => onSelect(c.peerId)}
          >
            <span className="peer">{c.peerName}</span>
            {c.unread > 0 && (
              <span className="badge" data-testid="conversation-unread">
                {c.unread}
              </span>
            )}
            <span className="last">{c.lastMessage?.body ?? ""}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
