import type { ClaimResult, OwnerClaim, OwnerRegistry } from "./ports.js";

type ReplacedListener = (userId: number, connId: string) => void;

/**
 * Owner records kept in this process: the registry of a single instance, and the store a Redis
 * instance falls back to while Redis is down. `claim` is one synchronous map update, so
 * concurrent connects cannot interleave; the previous owner is reported to `onReplaced` at once.
 */
export class LocalOwnerRegistry implements OwnerRegistry {
  readonly #owners = new Map<number, { connId: string; instanceId: string }>();
  readonly #generations = new Map<number, number>();
  readonly #listeners = new Set<ReplacedListener>();

  async claim(claim: OwnerClaim): Promise<ClaimResult> {
    const result = this.claimSync(claim);
    if (result.previous && result.previous.connId !== claim.connId) {
      for (const listener of this.#listeners) listener(claim.userId, result.previous.connId);
    }
    return result;
  }

  /** The claim itself, without notifying (the Redis fallback reports replacements its own way). */
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

  localOwner(userId: number): string | undefined {
    return this.#owners.get(userId)?.connId;
  }

  get localOwners(): number {
    return this.#owners.size;
  }

  onReplaced(listener: ReplacedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
