import { useMemo } from "react";
import useSWR from "swr";
import type { ChatMessage } from "../protocol/index.js";
import { TabRequestKind } from "./hub-messages.js";
import type { TabMessage } from "./merge-messages.js";
import { CONVERSATION_MESSAGES_MAX, mergeMessage } from "./merge-messages.js";
import { OutboxState, type OutboxEntry } from "./outbox-entry.js";
import { useSwitchboardClient } from "./provider.js";
import { messagesKey } from "./swr-keys.js";
import { useOutbox } from "./use-outbox.js";

/**
 * One conversation: loaded once through the hub when first shown, then kept current by pushed
 * `message`/`ack` events. What is typed but not acknowledged comes from the hub's outbox (shared
 * by every tab, durable), shown pending or failed after the acknowledged messages.
 */
export function useMessages(peerId: number | null) {
  const client = useSwitchboardClient();
  const key = peerId === null ? null : messagesKey(peerId);
  const { data, error, isLoading } = useSWR<TabMessage[]>(key, async () => {
    const loaded = await client.request(TabRequestKind.loadMessages, { peerId: peerId as number });
    // A message pushed while the history was in flight reached the snapshot's `recent` but not
    // this (not yet loaded) cache: merge it, or it would be missing until the next reload.
    return withRecent(loaded, client.snapshot?.recent ?? [], peerId as number);
  });
  const outbox = useOutbox();
  const me = client.snapshot?.user?.id ?? 0;
  const messages = useMemo(() => withOutbox(data ?? [], outbox, peerId, me), [data, outbox, peerId, me]);
  return {
    messages,
    isLoading,
    error: error as Error | undefined,
    /** Resolves once the hub stored the message durably; its state then follows the outbox. */
    send: async (body: string) => {
      if (peerId === null) return;
      await client.request(TabRequestKind.send, { to: peerId, body, clientMsgId: client.newClientMsgId() });
    },
    retry: (clientMsgId: string) => client.request(TabRequestKind.retrySend, { clientMsgId }),
    discard: (clientMsgId: string) => client.request(TabRequestKind.discardSend, { clientMsgId }),
    markRead: (upToMessageId: number) => (peerId === null ? Promise.resolve(0) : client.request(TabRequestKind.markRead, { peerId, upToMessageId })),
  };
}

/** The conversation's messages among the hub's recent ones, merged into a loaded history. */
export function withRecent(loaded: readonly ChatMessage[], recent: readonly ChatMessage[], peerId: number): TabMessage[] {
  let list: TabMessage[] = [...loaded];
  for (const message of recent) if (message.from === peerId || message.to === peerId) list = mergeMessage(list, message, CONVERSATION_MESSAGES_MAX);
  return list;
}

/** Acknowledged messages, then this conversation's outbox entries (an entry already acked is skipped). */
export function withOutbox(messages: TabMessage[], outbox: readonly OutboxEntry[], peerId: number | null, me: number): TabMessage[] {
  const waiting = outbox.filter((entry) => entry.to === peerId);
  if (waiting.length === 0) return messages;
  const acked = new Set(messages.map((message) => message.clientMsgId));
  const shown: TabMessage[] = waiting
    .filter((entry) => !acked.has(entry.clientMsgId))
    .map((entry) => ({
      id: Number.MAX_SAFE_INTEGER,
      from: me,
      to: entry.to,
      body: entry.body,
      clientMsgId: entry.clientMsgId,
      createdAt: new Date(entry.queuedAt).toISOString(),
      readAt: null,
      pending: entry.state === OutboxState.pending,
      failed: entry.state === OutboxState.failed ? (entry.failure ?? "Not sent.") : undefined,
    }));
  return [...messages.filter((message) => !message.pending), ...shown];
}
