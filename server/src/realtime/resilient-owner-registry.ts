import type { Logger } from "../log/logger.js";
import { RECOVERY_SLICE, inSlices } from "./in-slices.js";
import type { LocalOwnerRegistry } from "./local-owner-registry.js";
import type { ClaimResult, OwnerClaim, OwnerRegistry } from "./ports.js";
import type { RedisHealth } from "./redis-health.js";
import type { RedisOwnerRegistry } from "./redis-owner-registry.js";

/**
 * The owner registry of an instance that shares Redis: the one place that decides which of a
 * user's connections is current, as far as this instance's sockets are concerned. Claims go to
 * Redis (a Lua compare-and-set that also tells another instance's previous owner) or, while Redis
 * is down, to the in-process store. `#mine` is this instance's record of the current connection of
 * each user it serves, with the generation that made it current.
 */
export class ResilientOwnerRegistry implements OwnerRegistry {
  readonly #mine = new Map<number, { connId: string; generation: number }>();
  /** Releases that could not reach Redis; done on recovery unless the socket's record moved on. */
  readonly #pendingReleases = new Map<string, { userId: number; connId: string }>();
  readonly #listeners = new Set<(userId: number, connId: string) => void>();
  readonly #detach: (() => void)[] = [];

  constructor(
    private readonly redis: RedisOwnerRegistry,
    private readonly local: LocalOwnerRegistry,
    private readonly health: RedisHealth,
    private readonly instanceId: string,
    private readonly logger?: Logger,
  ) {
    this.#detach.push(
      // Another instance's claim replaced a connection of ours (published by its claim script).
      redis.onReplaced((userId, connId) => this.#replaced(userId, connId)),
      health.onRecover(() => this.#recover()),
    );
  }

  async claim(claim: OwnerClaim): Promise<ClaimResult> {
    const result = await this.health.run(
      () => this.redis.claim(claim),
      () => this.#claimLocally(claim),
    );
    const mine = this.#mine.get(claim.userId);
    if (mine && mine.generation > result.generation) {
      // A newer claim of this user won while this one was in flight (on Redis Cluster a reply can
      // come back after a later one): this connection lost as soon as it was made current.
      this.#notify(claim.userId, claim.connId);
      return result;
    }
    this.#mine.set(claim.userId, { connId: claim.connId, generation: result.generation });
    // A previous owner on another instance was told by the claim script; one on this instance is told here.
    const previous = result.previous;
    if (previous && previous.instanceId === this.instanceId && previous.connId !== claim.connId) this.#notify(claim.userId, previous.connId);
    return result;
  }

  #claimLocally(claim: OwnerClaim): ClaimResult {
    const mine = this.#mine.get(claim.userId);
    this.local.raiseGeneration(claim.userId, mine?.generation ?? 0);
    const result = this.local.claimSync(claim);
    const previous = mine && mine.connId !== claim.connId ? { instanceId: this.instanceId, connId: mine.connId } : null;
    return { generation: result.generation, previous };
  }

  async release(userId: number, connId: string): Promise<boolean> {
    const wasMine = this.#mine.get(userId)?.connId === connId;
    if (wasMine) this.#mine.delete(userId);
    void this.local.release(userId, connId);
    return this.health.run(
      () => this.redis.release(userId, connId),
      () => {
        this.#pendingReleases.set(`${userId}:${connId}`, { userId, connId });
        return wasMine;
      },
    );
  }

  localOwner(userId: number): string | undefined {
    return this.#mine.get(userId)?.connId;
  }

  get localOwners(): number {
    return this.#mine.size;
  }

  onReplaced(listener: (userId: number, connId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Users with a socket on this instance. */
  users(): number[] {
    return [...this.#mine.keys()];
  }

  #replaced(userId: number, connId: string): void {
    if (this.#mine.get(userId)?.connId === connId) this.#mine.delete(userId);
    this.#notify(userId, connId);
  }

  #notify(userId: number, connId: string): void {
    for (const listener of this.#listeners) listener(userId, connId);
  }

  /**
   * After an outage: finish the releases that could not reach Redis, then put back the owner
   * record of every socket still open here (Redis may have restarted empty, or another instance
   * may have claimed the user meanwhile — then our socket is the one that lost and is closed).
   */
  async #recover(): Promise<void> {
    await inSlices([...this.#pendingReleases], RECOVERY_SLICE, async ([key, { userId, connId }]) => {
      await this.health.withTimeout(this.redis.release(userId, connId));
      this.#pendingReleases.delete(key);
    });
    let lost = 0;
    await inSlices([...this.#mine], RECOVERY_SLICE, async ([userId, { connId, generation }]) => {
      const kept = await this.health.withTimeout(this.redis.adopt(userId, connId, this.instanceId, generation));
      if (!kept && this.#mine.get(userId)?.connId === connId) {
        lost++;
        this.#replaced(userId, connId);
      }
    });
    if (this.#mine.size > 0) this.logger?.info({ owners: this.#mine.size, lost }, "owner records restored in redis");
  }

  async close(): Promise<void> {
    for (const detach of this.#detach) detach();
    this.#listeners.clear();
    await this.local.close();
  }
}
