import type { Logger } from "../log/logger.js";
import type { RedisHealth } from "../realtime/redis-health.js";
import { KEY_PREFIX, type RedisClient } from "../realtime/redis-keys.js";
import type { ProfileChangeFeed, ProfileEtags } from "./profile-etags.js";

/** Broadcast to every instance: these users' profiles changed. */
export const profileChangesChannel = `${KEY_PREFIX}profile-changes`;

/** What travels on the channel: the user ids whose profile changed. */
interface ProfileChangeMessage {
  u: number[];
}

/**
 * Profile changes shared between the instances on one Redis, for `ProfileEtags`:
 *
 * - every change is published on `sb:profile-changes` (after it is stored, before the request
 *   that made it returns); every instance forgets the user's ETag when the message arrives;
 * - before an answer from memory, `caughtUp()` sends a PING on the subscriber connection and
 *   waits for its PONG. Redis answers a connection in order, so every message published before
 *   the PING was processed — every change whose request had returned before ours arrived — has
 *   been delivered and applied by then. One PING covers every request that arrived before it
 *   was sent; requests arriving meanwhile wait for the next one;
 * - whenever Redis is not up (an outage, a reconnect of the subscriber, a PING that fails) every
 *   entry is dropped and nothing is trusted until the recovery has subscribed again: pub/sub does
 *   not replay what a subscriber missed. Changes made here meanwhile are announced on recovery.
 *
 * On Redis Cluster a PUBLISH reaches the other nodes over the cluster bus, after its reply: a
 * PING to one node proves nothing about another, so the entries are never trusted there and the
 * 304 keeps being computed from the user cache.
 */
export class RedisProfileChanges implements ProfileChangeFeed {
  /** Changes made here while Redis was unreachable, announced on recovery. */
  readonly #pending = new Set<number>();
  readonly #detach: Array<() => void> = [];
  /** Requests waiting for a PING sent after they arrived. */
  #waiting: Array<(caughtUp: boolean) => void> = [];
  /** A PING is scheduled or in flight; requests arriving meanwhile wait for the next one. */
  #pinging = false;
  readonly #onMessage = (channel: string, message: string) => {
    if (channel === profileChangesChannel) this.#receive(message);
  };

  constructor(
    private readonly commands: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly health: RedisHealth,
    private readonly etags: ProfileEtags,
    private readonly logger?: Logger,
  ) {
    etags.useFeed(this);
    if (commands.isCluster) {
      logger?.info("redis cluster: profile ETags are not kept in process (PUBLISH is not ordered across nodes)");
      return;
    }
    subscriber.on("message", this.#onMessage);
    this.#detach.push(
      () => subscriber.off("message", this.#onMessage),
      // Also the first connection: runs before Redis is used.
      health.onRecover(() => this.#recover()),
      health.onChange((state) => (state === "up" ? etags.resume() : etags.suspend())),
    );
  }

  announce(userId: number): Promise<void> {
    return this.health.run(
      () => this.#publish([userId]),
      () => {
        this.#pending.add(userId);
        this.logger?.warn({ userId }, "redis unavailable: the profile change reaches the other instances when redis answers");
      },
    );
  }

  caughtUp(): Promise<boolean> {
    if (!this.health.isUp() || !this.etags.trusted) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedulePing();
    });
  }

  /** At the end of this turn of the event loop, so one PING covers every request read in it. */
  #schedulePing(): void {
    if (this.#pinging) return;
    this.#pinging = true;
    setImmediate(() => this.#ping());
  }

  #ping(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    this.health.withTimeout(this.subscriber.ping()).then(
      () => this.#settle(batch, true),
      (error: unknown) => {
        // The connection that carries the changes did not answer: it may have lost some.
        this.etags.suspend();
        this.health.reportFailure(error);
        this.#settle(batch, false);
      },
    );
  }

  #settle(batch: Array<(caughtUp: boolean) => void>, caughtUp: boolean): void {
    this.#pinging = false;
    for (const resolve of batch) resolve(caughtUp);
    if (this.#waiting.length > 0) this.#schedulePing();
  }

  async #publish(userIds: number[]): Promise<void> {
    const message: ProfileChangeMessage = { u: userIds };
    await this.commands.publish(profileChangesChannel, JSON.stringify(message));
  }

  /** Subscribe (entries stay untrusted until the state is up), then announce what was changed here meanwhile. */
  async #recover(): Promise<void> {
    await this.health.withTimeout(this.subscriber.subscribe(profileChangesChannel));
    if (this.#pending.size === 0) return;
    const userIds = [...this.#pending];
    await this.health.withTimeout(this.#publish(userIds));
    for (const userId of userIds) this.#pending.delete(userId);
    this.logger?.info({ users: userIds.length }, "profile changes made while redis was down announced");
  }

  #receive(raw: string): void {
    let message: Partial<ProfileChangeMessage>;
    try {
      message = JSON.parse(raw) as Partial<ProfileChangeMessage>;
    } catch {
      message = { u: [] };
    }
    if (!Array.isArray(message.u) || message.u.length === 0) {
      // Whatever it meant to invalidate is unknown: forget everything rather than guess.
      this.logger?.warn({ bytes: raw.length }, "unreadable profile-change message: dropped every profile ETag kept here");
      this.etags.forgetAll();
      return;
    }
    for (const userId of message.u) if (Number.isSafeInteger(userId)) this.etags.forget(userId);
  }

  close(): void {
    for (const detach of this.#detach) detach();
    for (const resolve of this.#waiting) resolve(false);
    this.#waiting = [];
  }
}
