import useSWR from "swr";
import type { OutboxEntry } from "./outbox-entry.js";
import { useSwitchboardClient } from "./provider.js";
import { SwrKey } from "./swr-keys.js";

const NONE: OutboxEntry[] = [];

/** The messages typed in any tab that the server has not acknowledged yet (pending or failed). */
export function useOutbox(): OutboxEntry[] {
  const client = useSwitchboardClient();
  return useSWR<OutboxEntry[]>(SwrKey.outbox, () => client.ready().then((s) => s.outbox ?? NONE)).data ?? NONE;
}
