/** Run-time settings of a hub, whichever home runs it (the extension's worker, the elected tab). */
export interface HubSettings {
  /** Where the Switchboard server runs, e.g. `http://localhost:8080`. */
  serverUrl: string;
  /** Application keepalive period. @default 20000 */
  keepaliveMs: number;
  /** How long a cached profile counts as fresh. @default 300000 (the server's `max-age=300`) */
  profileFreshMs: number;
  /** Backoff base delay (shortened in tests). @default 1000 */
  backoffBaseMs: number;
  /** Messages the outbox holds at once (pending and failed). @default 500 */
  outboxMaxMessages?: number;
  /** Age after which an unsent message is marked failed instead of retried. @default 604800000 (7 days) */
  outboxMaxAgeMs?: number;
}

export function wsUrlFor(serverUrl: string, userId: number, wsPathPrefix: string): string {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${wsPathPrefix}${userId}`;
  return url.toString();
}
