import type { ChatEvent } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import { RECOVERY_SLICE, inSlices } from "./in-slices.js";
import type { LocalEventBus } from "./local-event-bus.js";
import type { MemoryEventLog } from "./memory-event-log.js";
import type { EventCursor, EventLog, ReplayResult, StoredEvent } from "./ports.js";
import type { RedisEventLog, RoutedAppend } from "./redis-event-log.js";
import type { RedisHealth } from "./redis-health.js";

/**
 * Redis-backed while Redis is up, the in-process version while it is down: switching follows
 * `RedisHealth`, and a Redis call that fails is answered by the fallback, so no caller ever sees a
 * Redis error. What degraded mode gives up: replacement and delivery across instances (each
 * instance serves its own sockets), and resume across the outage (a client is told
 * `recovered:false` and refetches). See docs/architecture.md#losing-redis.
 */
export class ResilientEventLog implements EventLog {
  #memory: MemoryEventLog;
  /** Users whose events went to the in-process log: their Redis history no longer tells the whole story. */
  readonly #divergedUsers = new Set<number>();
  /** Per user, the newest `publish` not settled yet (a socket's sends are pipelined). */
  readonly #publishing = new Map<number, Promise<void>>();
  readonly #detach: () => void;

  constructor(
    private readonly redis: RedisEventLog,
    private readonly createMemory: () => MemoryEventLog,
    private readonly health: RedisHealth,
    private readonly logger?: Logger,
    private readonly options: {
      /**
       * Send a user's next event to Redis only after the previous one's reply. Needed on Redis
       * Cluster: its client re-sends a command after MOVED/ASK or while its slot map is being
       * refreshed, so two scripts in flight for one user can run in either order. One standalone
       * connection runs them in the order sent, so there they are pipelined. @default false
       */
      oneAtATimePerUser?: boolean;
    } = {},
  ) {
    this.#memory = createMemory();
    this.#detach = health.onRecover(() => this.#recover());
  }

  append(userId: number, event: ChatEvent): Promise<StoredEvent> {
    return this.health.run(
      () => this.redis.append(userId, event),
      () => this.#appendInMemory(userId, event),
    );
  }

  /**
   * Append and deliver in one step: through Redis (one script: history + owner-routed PUBLISH,
   * or handed to `local` when the user's socket is on this instance); while Redis is down, to the
   * in-process history and `local` (this instance's own sockets).
   */
  publish(userId: number, event: ChatEvent, local: LocalEventBus): Promise<StoredEvent> {
    const earlier = this.#publishing.get(userId);
    const send = () =>
      this.health.run<RoutedAppend>(
        () => this.redis.appendAndRoute(userId, event),
        async () => {
          // An earlier event of this user may still be on its way to Redis when it goes down, and
          // fall back only when that call fails: let it land first, so the in-process history and
          // the socket get the user's events in the order they were published.
          if (earlier) await earlier;
          return { stored: this.#appendInMemory(userId, event), here: true };
        },
      );
    const routed = earlier && this.options.oneAtATimePerUser ? earlier.then(send) : send();
    // Delivered outside `health.run`: a listener's failure is not a Redis failure. Replies of one
    // connection arrive in the order the scripts ran, so this instance's events reach the session
    // in seq order; one published by another instance may come later over pub/sub (or earlier),
    // and the session drops what it already sent and fills a gap from the log.
    const result = routed.then(({ stored, here }) => {
      if (here) local.publishSync(userId, stored);
      return stored;
    });
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#publishing.set(userId, settled);
    void settled.then(() => {
      if (this.#publishing.get(userId) === settled) this.#publishing.delete(userId);
    });
    return result;
  }

  #appendInMemory(userId: number, event: ChatEvent): StoredEvent {
    this.#divergedUsers.add(userId);
    return this.#memory.appendSync(userId, event);
  }

  head(userId: number): Promise<EventCursor> {
    return this.health.run(
      () => this.redis.head(userId),
      () => this.#memory.head(userId),
    );
  }

  since(userId: number, cursor: EventCursor, limit: number): Promise<ReplayResult> {
    return this.health.run(
      () => this.redis.since(userId, cursor, limit),
      () => this.#memory.since(userId, cursor, limit),
    );
  }

  /**
   * Start a new Redis epoch for every user who got events in process during the outage, so a
   * client resuming from before the outage is told `recovered:false` instead of silently missing
   * what other instances produced meanwhile. Then drop the in-process history.
   */
  async #recover(): Promise<void> {
    const users = [...this.#divergedUsers];
    await inSlices(users, RECOVERY_SLICE, async (userId) => {
      await this.health.withTimeout(this.redis.reset(userId));
      this.#divergedUsers.delete(userId);
    });
    this.#memory = this.createMemory();
    if (users.length > 0) this.logger?.info({ users: users.length }, "event histories restarted after the redis outage");
  }

  close(): void {
    this.#detach();
  }
}

/**
 * Last recovery step: hand each local socket the newest event of its user's history. Another
 * instance may have recovered first and routed events while this instance's owner records were
 * not back yet; the session drops what it already sent and fills any gap from the log, so one
 * event per user is enough to catch up.
 */
export async function redeliverLatest(users: number[], redisLog: RedisEventLog, local: LocalEventBus, health: RedisHealth): Promise<void> {
  await inSlices(users, RECOVERY_SLICE, async (userId) => {
    const head = await health.withTimeout(redisLog.head(userId));
    if (head.seq === 0) return;
    const latest = await health.withTimeout(redisLog.since(userId, { epoch: head.epoch, seq: head.seq - 1 }, 1));
    for (const stored of latest.events) local.publishSync(userId, stored);
  });
}
