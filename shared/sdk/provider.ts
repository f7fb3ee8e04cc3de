import { createContext, createElement, useContext, useEffect, type ReactNode } from "react";
import { SWRConfig, useSWRConfig, type SWRConfiguration } from "swr";
import type { SwitchboardClient } from "./client.js";
import { HubMessageKind } from "./hub-messages.js";
import { mergeMessage, type TabMessage } from "./merge-messages.js";
import { isMessagesKey, messagesKey, SwrKey } from "./swr-keys.js";

const ClientContext = createContext<SwitchboardClient | null>(null);

/**
 * Nothing revalidates by itself: no focus or reconnect refetch, no interval. The hub pushes every
 * change, and `HubSync` writes it into the cache with `mutate`.
 */
export const swrOptions: SWRConfiguration = {
  revalidateOnFocus: false,
  revalidateOnReconnect: false,
  revalidateIfStale: false,
  refreshInterval: 0,
  shouldRetryOnError: false,
};

export function useSwitchboardClient(): SwitchboardClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useSwitchboardClient() needs a <SwitchboardProvider client={…}> above it.");
  return client;
}

/** Feeds every hub message into the SWR cache. */
function HubSync({ children }: { children?: ReactNode }) {
  const client = useSwitchboardClient();
  const { mutate } = useSWRConfig();
  useEffect(() => {
    let snapshots = client.snapshot ? 1 : 0;
    return client.subscribe((message, snapshot) => {
      const set = (key: string, value: unknown) => void mutate(key, value, { revalidate: false });
      switch (message.kind) {
        case HubMessageKind.snapshot:
          set(SwrKey.state, snapshot.state);
          set(SwrKey.user, snapshot.user);
          set(SwrKey.profile, snapshot.profile);
          set(SwrKey.unread, snapshot.unread);
          set(SwrKey.conversations, snapshot.conversations);
          // A later snapshot means the hub restarted or refetched after a gap: reload open conversations.
          if (snapshots++ > 0) void mutate(isMessagesKey);
          return;
        case HubMessageKind.state:
          return set(SwrKey.state, message.state);
        case HubMessageKind.profile:
          return set(SwrKey.profile, message.profile);
        case HubMessageKind.unread:
          return set(SwrKey.unread, message.count);
        case HubMessageKind.conversations:
          return set(SwrKey.conversations, message.conversations);
        case HubMessageKind.message:
        case HubMessageKind.ack: {
          const me = snapshot.user?.id;
          const chat = message.message;
          const peerId = chat.from === me ? chat.to : chat.from;
          void mutate(messagesKey(peerId), (list?: TabMessage[]) => (list ? mergeMessage(list, chat) : list), { revalidate: false });
          set(SwrKey.conversations, snapshot.conversations);
          set(SwrKey.unread, snapshot.unread);
          return;
        }
        case HubMessageKind.reply:
          return;
      }
    });
  }, [client, mutate]);
  return children;
}

export function SwitchboardProvider({ client, children }: { client: SwitchboardClient; children?: ReactNode }) {
  return createElement(
    ClientContext.Provider,
    { value: client },
    createElement(SWRConfig, { value: swrOptions }, createElement(HubSync, null, children)),
  );
}
