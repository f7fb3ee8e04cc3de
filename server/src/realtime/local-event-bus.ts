import type { EventBus, StoredEvent } from "./ports.js";

/** Live delivery inside one process: every listener sees every event, synchronously. */
export class LocalEventBus implements EventBus {
  readonly #listeners = new Set<(userId: number, stored: StoredEvent) => void>();

  async publish(userId: number, stored: StoredEvent): Promise<void> {
    this.publishSync(userId, stored);
  }

  publishSync(userId: number, stored: StoredEvent): void {
    for (const listener of this.#listeners) listener(userId, stored);
  }

  subscribe(listener: (userId: number, stored: StoredEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
