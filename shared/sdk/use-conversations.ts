import useSWR from "swr";
import { useSwitchboardClient } from "./provider.js";
import type { Conversation } from "./snapshot.js";
import { SwrKey } from "./swr-keys.js";

/** The conversation list with per-peer unread counts, pushed by the hub. */
export function useConversations(): Conversation[] {
  const client = useSwitchboardClient();
  return useSWR<Conversation[]>(SwrKey.conversations, () => client.ready().then((s) => s.conversations)).data ?? [];
}
