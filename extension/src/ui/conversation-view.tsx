import { Fragment, memo, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { useConnectionState, useConversations, useMessages, type TabMessage } from "../../../shared/sdk/index.js";
import { usePageVisible } from "./use-page-visible.js";

/** The messages with one peer and the composer (Enter sends; pending until acked). */
export function ConversationView({ peerId }: { peerId: number }) {
  const { user } = useConnectionState();
  const { messages, send, retry, discard, markRead, error } = useMessages(peerId);
  const conversation = useConversations().find((c) => c.peerId === peerId);
  const [draft, setDraft] = useState("");
  const [sendError, setSendError] = useState<string | null>(null);
  const lastIncoming = lastFrom(messages, peerId);
  const visible = usePageVisible();
  const list = useRef<HTMLOListElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  /** Whether the user is at the newest message (then new ones scroll into view; else the pill shows). */
  const atBottom = useRef(true);
  const [unseen, setUnseen] = useState(false);
  const newestKey = messages.length === 0 ? null : (messages.at(-1)!.clientMsgId ?? messages.at(-1)!.id);

  // Opening a conversation (the view is keyed by peer, so this is each opening): focus lands in the composer.
  useEffect(() => {
    composer.current?.focus();
  }, []);

  // A new newest message: follow it if the user is at the bottom, otherwise offer the pill.
  // biome-ignore lint/correctness/useExhaustiveDependencies: it runs when the newest message changes; the body reads the list through its ref
  useLayoutEffect(() => {
    const element = list.current;
    if (!element || newestKey === null) return;
    if (atBottom.current) element.scrollTop = element.scrollHeight;
    else setUnseen(true);
  }, [newestKey, messages.length]);

  const onScroll = () => {
    const element = list.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current) setUnseen(false);
  };
  const scrollToNewest = () => {
    const element = list.current;
    if (!element) return;
    element.scrollTop = element.scrollHeight;
    atBottom.current = true;
    setUnseen(false);
  };

  // Opening a conversation, a new message arriving in it while shown, or its page coming back into
  // view (a message that arrived while the tab was hidden is seen now) marks it read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the last incoming id, the unread count and the visibility, not on object identity (a new array each render).
  useEffect(() => {
    if (lastIncoming && (conversation?.unread ?? 0) > 0 && visible) void markRead(lastIncoming.id);
  }, [lastIncoming?.id, conversation?.unread, visible]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== "Enter" || event.shiftKey) return;
    event.preventDefault();
    const body = draft.trim();
    if (!body) return;
    setDraft("");
    setSendError(null);
    atBottom.current = true; // one's own message always scrolls into view
    send(body).catch((failure: unknown) => {
      setDraft((current) => current || body); // not queued (e.g. the outbox is full): the text stays in the composer
      setSendError(failure instanceof Error ? failure.message : String(failure));
    });
  };

  return (
    <section className="conversation" data-testid="conversation-view" data-peer={peerId}>
      <h2>{conversation?.peerName ?? `#${peerId}`}</h2>
      {error && <p className="error">{error.message}</p>}
      <ol className="messages" data-testid="messages" ref={list} onScroll={onScroll}>
        {messages.map((m, index) => {
          const previous = index > 0 ? messages[index - 1] : undefined;
          const day = dayOf(m.createdAt);
          const newDay = !previous || dayOf(previous.createdAt) !== day;
          const grouped = !newDay && previous?.from === m.from && Date.parse(m.createdAt) - Date.parse(previous.createdAt) < GROUP_WITHIN_MS;
          return (
            <Fragment key={m.clientMsgId ?? m.id}>
              {newDay && <li className="day-separator" aria-label={day} data-testid="day-separator" data-label={day} />}
              <MessageItem message={m} mine={m.from === user?.id} grouped={grouped} onRetry={retry} onDiscard={discard} />
            </Fragment>
          );
        })}
      </ol>
      {unseen && (
        <button type="button" className="new-messages-pill" data-testid="new-messages-pill" onClick={scrollToNewest}>
          New messages ↓
        </button>
      )}
      <textarea
        ref={composer}
        data-testid="composer"
        aria-label="Message"
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
  grouped,
  onRetry,
  onDiscard,
}: {
  message: TabMessage;
  mine: boolean;
  /** Same sender as the message before, shortly after: no gap, no repeated time. */
  grouped: boolean;
  onRetry: (clientMsgId: string) => Promise<null>;
  onDiscard: (clientMsgId: string) => Promise<null>;
}) {
  const state = deliveryState(m);
  const waiting = m.pending || m.failed !== undefined;
  return (
    <li
      className={`${mine ? "mine" : "theirs"} state-${state}${grouped ? " grouped" : ""}`}
      data-testid="message"
      data-id={waiting ? "" : m.id}
      data-pending={m.pending ? "true" : "false"}
      data-state={mine ? state : undefined}
      data-client-msg-id={m.clientMsgId ?? undefined}
    >
      <span className="body">{m.body}</span>
      {/* Times and labels are drawn by the stylesheet (`attr(data-label)`), so the text content stays the body. */}
      <time className="time" dateTime={m.createdAt} data-label={timeOf(m.createdAt)} />
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
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]!.from === peerId && !messages[i]!.pending && messages[i]!.failed === undefined) return messages[i];
  return undefined;
}

/** A message within this long of the previous one from the same sender joins its group. */
const GROUP_WITHIN_MS = 5 * 60_000;
/** Closer than this to the end counts as "at the newest message". */
const NEAR_BOTTOM_PX = 48;
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function dayOf(iso: string): string {
  return dayFormat.format(new Date(iso));
}

function timeOf(iso: string): string {
  return timeFormat.format(new Date(iso));
}
