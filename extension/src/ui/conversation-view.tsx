import { memo, useEffect, useState, type KeyboardEvent } from "react";
import { useConnectionState, useConversations, useMessages, type TabMessage } from "../../../shared/sdk/index.js";

/** The messages with one peer and the composer (Enter sends; pending until acked). */
export function ConversationView({ peerId }: { peerId: number }) {
  const { user } = useConnectionState();
  const { messages, send, retry, discard, markRead, error } = useMessages(peerId);
  const conversation = useConversations().find((c) => c.peerId === peerId);
  const [draft, setDraft] = useState("");
  const [sendError, setSendError] = useState<string | null>(null);
  const lastIncoming = lastFrom(messages, peerId);

  // Opening a conversation (or a new message arriving in it while shown) marks it read.
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
          <MessageItem key={m.clientMsgId ?? m.id} message={m} mine={m.from === user?.id} onRetry={retry} onDiscard={discard} />
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
const MessageItem = memo(function MessageItem({
  message: m,
  mine,
  onRetry,
  onDiscard,
}: {
  message: TabMessage;
  mine: boolean;
  onRetry: (clientMsgId: string) => Promise<null>;
  onDiscard: (clientMsgId: string) => Promise<null>;
}) {
  const state = deliveryState(m);
  const waiting = m.pending || m.failed !== undefined;
  return (
    <li
      className={`${mine ? "mine" : "theirs"} state-${state}`}
      data-testid="message"
      data-id={waiting ? "" : m.id}
      data-pending={m.pending ? "true" : "false"}
      data-state={mine ? state : undefined}
      data-client-msg-id={m.clientMsgId ?? undefined}
    >
      <span className="body">{m.body}</span>
      {/* The label is drawn by the stylesheet (`attr(data-label)`), so a message's text content stays its body. */}
      {mine && <small className="delivery" data-testid="delivery-state" data-label={STATE_TEXT[state]} />}
      {m.failed !== undefined && m.clientMsgId && (
        <span className="failure">
          <small data-testid="failure-reason">{m.failed}</small>
          <button type="button" data-testid="retry" onClick={() => void onRetry(m.clientMsgId as string)}>
            Retry
          </button>
          <button type="button" data-testid="discard" onClick={() => void onDiscard(m.clientMsgId as string)}>
            Discard
          </button>
        </span>
      )}
    </li>
  );
});

/** Where one of my messages is, as the sender sees it. */
const DeliveryState = { pending: "pending", sent: "sent", read: "read", failed: "failed" } as const;
type DeliveryState = (typeof DeliveryState)[keyof typeof DeliveryState];
const STATE_TEXT: Record<DeliveryState, string> = { pending: "Sending…", sent: "Sent", read: "Read", failed: "Not sent" };

function deliveryState(message: TabMessage): DeliveryState {
  if (message.failed !== undefined) return DeliveryState.failed;
  if (message.pending) return DeliveryState.pending;
  return message.readAt ? DeliveryState.read : DeliveryState.sent;
}

/** The newest acked message from `peerId` (a scan from the end, no copy of the list per render). */
function lastFrom(messages: TabMessage[], peerId: number): TabMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.from === peerId && !messages[i]!.pending && messages[i]!.failed === undefined) return messages[i];
  return undefined;
}
