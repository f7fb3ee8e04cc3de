import type { HubMessage, TabRequest } from "./hub-messages.js";

/** How a tab reaches the hub. Two implementations: extension page and web page. */
export interface TabTransport {
  post(request: TabRequest): void;
  /** Adds a listener for what the hub sends; returns the function that removes it. */
  listen(listener: (message: HubMessage) => void): () => void;
  close(): void;
  /** What a request that timed out should tell the user (who serves this tab, and what to check). */
  timeoutAdvice?(kind: string, timeoutMs: number): string;
}
