import type { ChatEvent } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import type { LocalEventBus } from "./local-event-bus.js";
import type { LocalOwnerRegistry } from "./local-owner-registry.js";
import type { MemoryEventLog } from "./memory-event-log.js";
import type { ClaimResult, EventBus, EventCursor, EventLog, OwnerClaim, OwnerRegistry, ReplayResult, StoredEvent } from "./ports.js";
import type { RedisEventBus } from "./redis-event-bus.js";
import type { RedisEventLog } from "./redis-event-log.js";
import type { RedisHealth } from "./redis-health.js";
import type { RedisOwnerRegistry } from "./redis-owner-registry.js";

/**
 * The realtime ports as the server sees them: Redis-backed while Redis is up, the in-process
 * versions while it is down (DESIGN.md §5 "Losing Redis degrades … and recovers by itself").
 * Switching follows `RedisHealth`; a Redis call that fails is answered by the fallback, so no
 * caller ever sees a Redis error. What degraded mode gives up: replacement and delivery across
 * instances (each instance serves its own sockets), and resume across the outage (a client is
 * told `recovered:false` and refetches).
 */

/** Work on many users after an outage in slices, not one unbounded burst. */
async function inSlices<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

const RECOVERY_SLICE = 200;

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
   * Append and deliver in one step: through Redis (one script: history + owner-routed PUBLISH);
   * while Redis is down, to the in-process history and `local` (this instance's own sockets).
   */
  publish(userId: number, event: ChatEvent, local: LocalEventBus): Promise<StoredEvent> {
    const earlier = this.#publishing.get(userId);
    const send = () =>
      this.health.run(
        () => this.redis.appendAndRoute(userId, event),
        async () => {
          // An earlier event of this user may still be on its way to Redis when it goes down, and
          // fall back only when that call fails: let it land first, so the in-process history and
          // the socket get the user's events in the order they were published.
          if (earlier) await earlier;
          const stored = this.#appendInMemory(userId, event);
          local.publishSync(userId, stored);
          return stored;
        },
      );
    const result = earlier && this.options.oneAtATimePerUser ? earlier.then(send) : send();
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
