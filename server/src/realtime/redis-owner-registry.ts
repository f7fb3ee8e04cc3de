import type { ClaimResult, OwnerClaim } from "./ports.js";
import { ChannelSubscriptions, type RedisInstanceChannel } from "./redis-instance-channel.js";
import { INSTANCE_CHANNEL_PREFIX, ownerKey, type RedisClient } from "./redis-keys.js";
import { realtimeScripts, type RealtimeScripts } from "./redis-scripts.js";

/**
 * The Redis store behind the owner registry (`ResilientOwnerRegistry` is the registry the server
 * uses). One owner record per user in Redis (`sb:{u:<id>}:owner` = `{gen, inst, conn}`), changed only
 * by Lua compare-and-set scripts, so concurrent connects on different instances end with exactly
 * one winner and `generation` increases per user across instances. The losing instance hears it
 * on its instance channel (published by the claim script itself) and closes its socket.
 */
export class RedisOwnerRegistry {
  readonly #scripts: RealtimeScripts;
  readonly #subscriptions = new ChannelSubscriptions();

  constructor(
    private readonly redis: RedisClient,
    private readonly channel: RedisInstanceChannel,
  ) {
    this.#scripts = realtimeScripts(redis);
  }

  async claim({ userId, connId, instanceId }: OwnerClaim): Promise<ClaimResult> {
    const reply = await this.#scripts.ownerClaim(ownerKey(userId), instanceId, connId, INSTANCE_CHANNEL_PREFIX, userId);
    const [generation, previousInstance, previousConn] = reply;
    return {
      generation: Number(generation),
      previous: previousInstance !== undefined && previousConn !== undefined ? { instanceId: previousInstance, connId: previousConn } : null,
    };
  }

  async release(userId: number, connId: string): Promise<boolean> {
    return (await this.#scripts.ownerRelease(ownerKey(userId), connId)) === 1;
  }

  /**
   * Put a connection this instance kept serving back into Redis (after an outage) unless another
   * connection owns the user now. Returns false when it lost: that socket must be closed.
   */
  async adopt(userId: number, connId: string, instanceId: string, generation: number): Promise<boolean> {
    return (await this.#scripts.ownerAdopt(ownerKey(userId), instanceId, connId, generation)) === 1;
  }

  /** The user's current owner record, or null. */
  async current(userId: number): Promise<{ instanceId: string; connId: string; generation: number } | null> {
    const [instanceId, connId, generation] = await this.redis.hmget(ownerKey(userId), "inst", "conn", "gen");
    if (!instanceId || !connId) return null;
    return { instanceId, connId, generation: Number(generation ?? 0) };
  }

  onReplaced(listener: (userId: number, connId: string) => void): () => void {
    return this.#subscriptions.add(this.channel.onReplaced(listener));
  }

  /** Stops notifying this registry's listeners; the Redis clients belong to the caller. */
  async close(): Promise<void> {
    this.#subscriptions.clear();
  }
}
