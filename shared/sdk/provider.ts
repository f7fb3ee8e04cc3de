import { createContext, createElement, useContext, useEffect, type ReactNode } from "react";
import { SWRConfig, useSWRConfig, type SWRConfiguration } from "swr";
import type { SwitchboardClient } from "./client.js";
import { flattenHubMessage, HubMessageKind } from "./hub-messages.js";
import type { Snapshot } from "./snapshot.js";
import { CONVERSATION_MESSAGES_MAX, mergeMessage, readBy, type TabMessage } from "./merge-messages.js";
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

/** The parts of the snapshot hooks read, each under its own SWR key. */
const SLICES = [
  [SwrKey.state, (snapshot: Snapshot) => snapshot.state],
  [SwrKey.user, (snapshot: Snapshot) => snapshot.user],
  [SwrKey.profile, (snapshot: Snapshot) => snapshot.profile],
  [SwrKey.unread, (snapshot: Snapshot) => snapshot.unread],
  [SwrKey.conversations, (snapshot: Snapshot) => snapshot.conversations],
  [SwrKey.outbox, (snapshot: Snapshot) => snapshot.outbox],
] as const;

/**
 * Feeds hub messages into the SWR cache: only the slices whose identity changed (the reducer
 * keeps the others), and a conversation's messages only if that conversation is loaded, so a
 * message costs one update of the list row and the unread count, not a write to every key.
 */
function HubSync({ children }: { children?: ReactNode }) {
  const client = useSwitchboardClient();
  const { mutate, cache } = useSWRConfig();
  useEffect(() => {
    let snapshots = client.snapshot ? 1 : 0;
    // Changes that arrived between the first render and this effect: the hooks' fetchers may
    // still hold an older snapshot's values, so write the current slices once.
    let previous: Snapshot | null = null;
    if (client.snapshot) for (const [key, slice] of SLICES) void mutate(key, slice(client.snapshot), { revalidate: false });
    previous = client.snapshot;
    return client.subscribe((message, snapshot) => {
      for (const [key, slice] of SLICES) {
        if (previous === null || slice(previous) !== slice(snapshot)) void mutate(key, slice(snapshot), { revalidate: false });
      }
      previous = snapshot;
      for (const change of flattenHubMessage(message)) {
        if (change.kind === HubMessageKind.snapshot) {
          // A later snapshot means the hub restarted or refetched after a gap: reload open conversations.
          if (snapshots++ > 0) void mutate(isMessagesKey);
        } else if (change.kind === HubMessageKind.read) {
          const key = messagesKey(change.peerId);
          if (cache.get(key)?.data !== undefined)
            void mutate(key, (list?: TabMessage[]) => (list ? readBy(list, change.peerId, change.upToMessageId, change.readAt) : list), { revalidate: false });
        } else if (change.kind === HubMessageKind.message || change.kind === HubMessageKind.ack) {
          const chat = change.message;
          const key = messagesKey(chat.from === snapshot.user?.id ? chat.to : chat.from);
          if (cache.get(key)?.data !== undefined)
            void mutate(key, (list?: TabMessage[]) => (list ? mergeMessage(list, chat, CONVERSATION_MESSAGES_MAX) : list), { revalidate: false });
        }
      }
    });
  }, [client, mutate, cache]);
  return children;
}

export function SwitchboardProvider({ client, children }: { client: SwitchboardClient; children?: ReactNode }) {
  return createElement(ClientContext.Provider, { value: client }, createElement(SWRConfig, { value: swrOptions }, createElement(HubSync, null, children)));
}
