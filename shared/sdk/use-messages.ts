import useSWR from "swr";
import { TabRequestKind } from "./hub-messages.js";
import type { TabMessage } from "./merge-messages.js";
import { CONVERSATION_MESSAGES_MAX, mergeMessage } from "./merge-messages.js";
import { useSwitchboardClient } from "./provider.js";
import { messagesKey } from "./swr-keys.js";

/**
 * One conversation: loaded once through the hub when first shown, then kept current by pushed
 * `message`/`ack` events. `send` shows the message as pending at once and replaces it when acked.
 */
export function useMessages(peerId: number | null) {
  const client = useSwitchboardClient();
  const key = peerId === null ? null : messagesKey(peerId);
  const { data, mutate, error, isLoading } = useSWR<TabMessage[]>(key, () => client.request(TabRequestKind.loadMessages, { peerId: peerId as number }));
  return {
    messages: data ?? [],
    isLoading,
    error: error as Error | undefined,
    send: async (body: string) => {
      if (peerId === null) return;
      const me = client.snapshot?.user?.id ?? 0;
      const clientMsgId = client.newClientMsgId();
      const pending: TabMessage = {
        id: Number.MAX_SAFE_INTEGER,
        from: me,
        to: peerId,
        body,
        clientMsgId,
        createdAt: new Date().toISOString(),
        readAt: null,
        pending: true,
      };
      await mutate((list) => mergeMessage(list ?? [], pending, CONVERSATION_MESSAGES_MAX), { revalidate: false });
      const message = await client.request(TabRequestKind.send, { to: peerId, body, clientMsgId });
      await mutate((list) => mergeMessage(list ?? [], message, CONVERSATION_MESSAGES_MAX), { revalidate: false });
    },
    markRead: (upToMessageId: number) => (peerId === null ? Promise.resolve(0) : client.request(TabRequestKind.markRead, { peerId, upToMessageId })),
  };
}
