import type { EventBus, StoredEvent } from "./ports.js";
import type { LocalEventBus } from "./local-event-bus.js";
import type { RedisEventBus } from "./redis-event-bus.js";
import type { RedisHealth } from "./redis-health.js";

/**
 * Redis-backed while Redis is up, the in-process version while it is down: switching follows
 * `RedisHealth`, and a Redis call that fails is answered by the fallback, so no caller ever sees a
 * Redis error. What degraded mode gives up: replacement and delivery across instances (each
 * instance serves its own sockets), and resume across the outage (a client is told
 * `recovered:false` and refetches). See docs/architecture.md#losing-redis.
 */
export class ResilientEventBus implements EventBus {
  constructor(
    private readonly redis: RedisEventBus,
    private readonly local: LocalEventBus,
    private readonly health: RedisHealth,
  ) {}

  /** Through Redis to the owner's instance; while Redis is down, to this instance's own sockets. */
  publish(userId: number, stored: StoredEvent): Promise<void> {
    return this.health.run(
      () => this.redis.publish(userId, stored),
      () => this.local.publishSync(userId, stored),
    );
  }

  subscribe(listener: (userId: number, stored: StoredEvent) => void): () => void {
    const fromRedis = this.redis.subscribe(listener);
    const fromLocal = this.local.subscribe(listener);
    return () => {
      fromRedis();
      fromLocal();
    };
  }

  async close(): Promise<void> {
    await this.redis.close();
    await this.local.close();
  }
}
