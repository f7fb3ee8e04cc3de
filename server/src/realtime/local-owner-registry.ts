import type { ClaimResult, OwnerClaim, OwnerRegistry } from "./ports.js";

/**
 * Owner records kept in this process: one instance, or the fallback while Redis is down.
 * `claim` is a single synchronous map update, so concurrent connects cannot interleave.
 */
export class LocalOwnerRegistry implements OwnerRegistry {
  readonly #owners = new Map<number, { connId: string; instanceId: string }>();
  readonly #generations = new Map<number, number>();
  readonly #listeners = new Set<(userId: number, connId: string) => void>();

  async claim({ userId, connId, instanceId }: OwnerClaim): Promise<ClaimResult> {
    return this.claimSync({ userId, connId, instanceId });
  }

  claimSync({ userId, connId, instanceId }: OwnerClaim): ClaimResult {
    const previous = this.#owners.get(userId) ?? null;
    const generation = (this.#generations.get(userId) ?? 0) + 1;
    this.#generations.set(userId, generation);
    this.#owners.set(userId, { connId, instanceId });
    return { generation, previous };
  }

  /** Continue generations above what another store handed out (after a fallback switch). */
  raiseGeneration(userId: number, atLeast: number): void {
    if ((this.#generations.get(userId) ?? 0) < atLeast) this.#generations.set(userId, atLeast);
  }

  async release(userId: number, connId: string): Promise<boolean> {
    const current = this.#owners.get(userId);
    if (!current || current.connId !== connId) return false;
    this.#owners.delete(userId);
    return true;
  }

  current(userId: number): { connId: string; instanceId: string } | undefined {
    return this.#owners.get(userId);
  }

  get size(): number {
    return this.#owners.size;
  }

  /** In one process the replaced socket is closed directly by the caller; nothing to notify. */
  onReplaced(listener: (userId: number, connId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
