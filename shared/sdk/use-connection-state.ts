import useSWR from "swr";
import type { ConnectionState } from "./connection-state.js";
import { TabRequestKind } from "./hub-messages.js";
import { useSwitchboardClient } from "./provider.js";
import type { SessionUser } from "./snapshot.js";
import { SwrKey } from "./swr-keys.js";

/** The hub's connection state (undefined until the extension answered) and what the banner can do. */
export function useConnectionState() {
  const client = useSwitchboardClient();
  const { data: state } = useSWR<ConnectionState>(SwrKey.state, () => client.ready().then((s) => s.state));
  const { data: user } = useSWR<SessionUser | null>(SwrKey.user, () => client.ready().then((s) => s.user));
  return {
    state,
    user: user ?? null,
    useHere: () => client.request(TabRequestKind.useHere, {}),
    signIn: (username: string, password: string) => client.request(TabRequestKind.signIn, { username, password }),
    signOut: () => client.request(TabRequestKind.signOut, {}),
  };
}
