import { memo, useEffect, useState, type KeyboardEvent } from "react";
import { useConnectionState, useConversations, useMessages, type TabMessage } from "../../../shared/sdk/index.js";

/** The messages with one peer and the composer (Enter sends; pending until acked). */
export function ConversationView({ peerId }: { peerId: number }) {
  const { user } = useConnectionState();
  const { messages, send, markRead, error } = useMessages(peerId);
  const conversation = useConversations().find((c) => c.peerId === peerId);
  const [draft, setDraft] = useState("");
  const [sendError, setSendError] = useState<string | null>(null);
  const lastIncoming = lastFrom(messages, peerId);

  // Opening a conversation (or a new message arriving in it while shown) marks it read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the last incoming id and the unread count, not on object identity (a new array each render).
  useEffect(() => {
    if (lastIncoming && (conversation?.unread ?? 0) > 0 && document.visibilityState === "visible") void markRead(lastIncoming.id);
  }, [lastIncoming?.id, conversation?.unread]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== "Enter" || event.shiftKey) return;
    event.preventDefault();
    const body = draft.trim();
    if (!body) return;
    setDraft("");
    setSendError(null);
    send(body).catch((failure: unknown) => setSendError(failure instanceof Error ? failure.message : String(failure)));
  };

  return (
    <section className="conversation" data-testid="conversation-view" data-peer={peerId}>
      <h2>{conversation?.peerName ?? `#${peerId}`}</h2>
      {error && <p className="error">{error.message}</p>}
      <ol className="messages" data-testid="messages">
        {messages.map((m) => (
          <MessageItem key={m.clientMsgId ?? m.id} message={m} mine={m.from === user?.id} />
        ))}
      </ol>
      <textarea
        data-testid="composer"
        placeholder="Write a message — Enter to send"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={onKeyDown}
      />
      {sendError && <p className="error">{sendError}</p>}
    </section>
  );
}

/** Memoised: a new message adds one item; the others keep their identity and are not re-rendered. */
const MessageItem = memo(function MessageItem({ message: m, mine }: { message: TabMessage; mine: boolean }) {
  return (
    <li className={mine ? "mine" : "theirs"} data-testid="message" data-id={m.pending ? "" : m.id} data-pending={m.pending ? "true" : "false"}>
      {m.body}
      {m.pending && <small> (sending…)</small>}
    </li>
  );
});

/** The newest acked message from `peerId` (a scan from the end, no copy of the list per render). */
function lastFrom(messages: TabMessage[], peerId: number): TabMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.from === peerId && !messages[i]!.pending) return messages[i];
  return undefined;
}
