import type { RevocationSharing, SessionRevocations } from "../auth/session-revocations.js";
import type { Logger } from "../log/logger.js";
import type { RedisHealth } from "./redis-health.js";
import { revokedSessionsChannel, revokedSessionsKey, type RedisClient } from "./redis-keys.js";

/** What travels on the revocations channel: session ids and when their revocation lapses. */
interface RevocationMessage {
  s: string[];
  x: number;
}

/** Largest batch a message may carry (a "log out everywhere" of a user with very many logins). */
const MAX_IDS_PER_MESSAGE = 10_000;

/**
 * Shares session revocations between the instances on one Redis (or Redis Cluster):
 *
 * - a sorted set `sb:revoked-sessions` (member = session id, score = when its last access token
 *   expires, ms), pruned on every write and expiring with its newest member, which an instance
 *   loads whole when it starts and after every Redis outage (pub/sub does not replay what a
 *   subscriber missed);
 * - a broadcast channel `sb:revoked-sessions` on which every new revocation is published, so
 *   every instance refuses the session's tokens and closes its sockets within one round trip —
 *   whichever instance holds the socket.
 *
 * While Redis is down a revocation holds on the instance that made it (`SessionRevocations`
 * keeps it in process) and is written and published when Redis answers again.
 */
export class RedisSessionRevocations implements RevocationSharing {
  /** Revocations made here that Redis has not taken yet. */
  readonly #pending = new Map<string, number>();
  readonly #detach: Array<() => void> = [];
  readonly #onMessage = (channel: string, message: string) => {
    if (channel === revokedSessionsChannel) this.#receive(message);
  };

  constructor(
    private readonly commands: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly health: RedisHealth,
    private readonly revocations: SessionRevocations,
    private readonly logger?: Logger,
  ) {
    subscriber.on("message", this.#onMessage);
    this.#detach.push(
      () => subscriber.off("message", this.#onMessage),
      // Also the first connection: runs before Redis is used, like the other recovery hooks.
      health.onRecover(() => this.#recover()),
    );
    revocations.useSharing(this);
  }

  share(sessionIds: readonly string[], expiresAtMs: number): Promise<void> {
    return this.health.run(
      () => this.#write(sessionIds, expiresAtMs),
      () => {
        for (const sessionId of sessionIds) this.#pending.set(sessionId, expiresAtMs);
        this.logger?.warn({ sessions: sessionIds.length }, "redis unavailable: session revocation holds on this instance only until redis answers");
      },
    );
  }

  async #write(sessionIds: readonly string[], expiresAtMs: number): Promise<void> {
    const now = Date.now();
    for (let start = 0; start < sessionIds.length; start += MAX_IDS_PER_MESSAGE) {
      const ids = sessionIds.slice(start, start + MAX_IDS_PER_MESSAGE);
      await this.commands.zadd(revokedSessionsKey, ...ids.flatMap((id) => [expiresAtMs, id]));
      const message: RevocationMessage = { s: ids, x: expiresAtMs };
      await this.commands.publish(revokedSessionsChannel, JSON.stringify(message));
      // Housekeeping: drop lapsed members; no member can outlive now + access TTL, so neither
      // does the set (an idle deployment keeps no key).
      await this.commands.zremrangebyscore(revokedSessionsKey, "-inf", now);
      await this.commands.pexpire(revokedSessionsKey, this.revocations.accessTtlMs);
    }
  }

  /** Subscribe, hand Redis what it missed from here, then load what this instance missed. */
  async #recover(): Promise<void> {
    await this.health.withTimeout(this.subscriber.subscribe(revokedSessionsChannel));
    const byExpiry = new Map<number, string[]>();
    const now = Date.now();
    for (const [sessionId, expiresAtMs] of this.#pending) {
      if (expiresAtMs > now) byExpiry.set(expiresAtMs, [...(byExpiry.get(expiresAtMs) ?? []), sessionId]);
    }
    for (const [expiresAtMs, sessionIds] of byExpiry) await this.health.withTimeout(this.#write(sessionIds, expiresAtMs));
    this.#pending.clear();
    const flat = await this.health.withTimeout(this.commands.zrangebyscore(revokedSessionsKey, now, "+inf", "WITHSCORES"));
    const entries: Array<[string, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i]!, Number(flat[i + 1])]);
    this.revocations.learn(entries);
    if (byExpiry.size > 0 || entries.length > 0)
      this.logger?.info({ pushed: byExpiry.size, loaded: entries.length }, "session revocations synchronised with redis");
  }

  #receive(raw: string): void {
    let message: RevocationMessage;
    try {
      message = JSON.parse(raw) as RevocationMessage;
    } catch {
      this.logger?.warn({ bytes: raw.length }, "ignored an unparseable session-revocation message");
      return;
    }
    if (!Array.isArray(message.s) || typeof message.x !== "number") return;
    this.revocations.learn(message.s.filter((id): id is string => typeof id === "string").map((id) => [id, message.x]));
  }

  close(): void {
    for (const detach of this.#detach) detach();
  }
}
