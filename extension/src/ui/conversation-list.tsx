import { memo } from "react";
import { useConversations, type Conversation } from "../../../shared/sdk/index.js";

export function ConversationList({ selected, onSelect }: { selected: number | null; onSelect: (peerId: number) => void }) {
  const conversations = useConversations();
  return (
    <ul className="conversations" data-testid="conversations">
      {conversations.map((c) => (
        <ConversationRow key={c.peerId} conversation={c} selected={c.peerId === selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}

/**
 * One row, memoised: a message changes one conversation object (the reducer keeps the others'
 * identity), so only that row re-renders and only its text nodes are touched.
 */
const ConversationRow = memo(function ConversationRow({
  conversation: c,
  selected,
  onSelect,
}: {
  conversation: Conversation;
  selected: boolean;
  onSelect: (peerId: number) => void;
}) {
  return (
    <li>
      <button type="button" className={selected ? "selected" : ""} data-testid={`conversation-${c.peerId}`} onClick={() => onSelect(c.peerId)}>
        <span className="peer">{c.peerName}</span>
        {c.unread > 0 && (
          <span className="badge" data-testid="conversation-unread">
            {c.unread}
          </span>
        )}
        <span className="last">{c.lastMessage?.body ?? ""}</span>
      </button>
    </li>
  );
});
