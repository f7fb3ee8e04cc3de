import useSWR from "swr";
import { useSwitchboardClient } from "./provider.js";
import { SwrKey } from "./swr-keys.js";

/** Total unread messages, pushed by the hub from `unread` events. */
export function useUnreadCount(): number | undefined {
  const client = useSwitchboardClient();
  return useSWR<number>(SwrKey.unread, () => client.ready().then((s) => s.unread)).data;
}
