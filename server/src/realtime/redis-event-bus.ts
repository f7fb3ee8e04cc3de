import type { EventBus, StoredEvent } from "./ports.js";
import { ChannelSubscriptions, type InstanceMessage, type RedisInstanceChannel } from "./redis-instance-channel.js";
import { INSTANCE_CHANNEL_PREFIX, ownerKey, type RedisClient } from "./redis-keys.js";
import { realtimeScripts, type RealtimeScripts } from "./redis-scripts.js";

/**
 * Live delivery to the instance holding the user's socket: one Lua script reads the user's owner
 * record and PUBLISHes the event on that instance's channel, in one round trip. Each instance
 * therefore receives only events for its own sockets (not every event of every user, as a
 * broadcast or per-shard channel would), and an event for a user with no socket costs no
 * pub/sub traffic at all.
 *
 * Why nothing is lost while Redis is up: the session claims ownership before it reads the head
 * for `welcome`/`resume`. An event appended before that read is covered by the replay; one
 * appended after it is routed after the claim, so it reaches the new owner's instance. Pub/sub
 * may still reorder or (around a fallback switch) repeat events; the session drops seq ≤ the
 * last one sent and fills gaps from the event log.
 */
export class RedisEventBus implements EventBus {
  readonly #scripts: RealtimeScripts;
  readonly #subscriptions = new ChannelSubscriptions();

  constructor(
    redis: RedisClient,
    private readonly channel: RedisInstanceChannel,
  ) {
    this.#scripts = realtimeScripts(redis);
  }

  async publish(userId: number, stored: StoredEvent): Promise<void> {
    const message: InstanceMessage = { k: "e", u: userId, s: stored };
    await this.#scripts.routeToOwner(ownerKey(userId), INSTANCE_CHANNEL_PREFIX, JSON.stringify(message));
  }

  subscribe(listener: (userId: number, stored: StoredEvent) => void): () => void {
    return this.#subscriptions.add(this.channel.onEvent(listener));
  }

  async close(): Promise<void> {
    this.#subscriptions.clear();
  }
}
