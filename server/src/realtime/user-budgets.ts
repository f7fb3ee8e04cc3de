import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/** What a user spends budget on. The socket's frames and the REST send share `send`. */
export const BudgetKind = {
  send: "send",
  read: "read",
  resume: "resume",
  ping: "ping",
} as const;
export type BudgetKind = (typeof BudgetKind)[keyof typeof BudgetKind];

/** A token bucket: `perSecond` steadily, plus `burst` extra over the burst window. `perSecond` 0 = unlimited. */
export interface Budget {
  perSecond: number;
  burst: number;
}

export type BudgetLimits = Record<BudgetKind, Budget>;

/**
 * The extra `burst` refills over this window. Clients reconnecting after `4029 Rate limited` wait
 * at least as long (`RATE_LIMITED_RECONNECT_MIN_MS` in shared/protocol).
 */
export const BURST_WINDOW_S = 10;

export type Spend = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Per-user budgets of this instance, in process memory (rate-limiter-flexible: a steady
 * `RateLimiterMemory` of `perSecond` per second, topped up by a `BurstyRateLimiter` of `burst` per
 * 10 s). Keys expire with their window, so memory follows the users active in the last 10 s.
 *
 * In memory, not Redis, on purpose: a user has one socket cluster-wide (replacement), so their
 * socket frames are all counted on the one instance that holds it; only REST sends can land on
 * other instances, which bounds a user to (instances × budget) there — still a flood limit, and
 * what each instance protects is its own event loop, which this counts exactly. It costs no Redis
 * round trip per frame and keeps limiting while Redis is down (degraded mode).
 */
export class UserBudgets {
  readonly #limiters: Partial<Record<BudgetKind, BurstyRateLimiter>> = {};

  constructor(limits: BudgetLimits) {
    for (const kind of Object.values(BudgetKind)) {
      const { perSecond, burst } = limits[kind];
      if (perSecond <= 0) continue;
      this.#limiters[kind] = new BurstyRateLimiter(
        new RateLimiterMemory({ keyPrefix: kind, points: perSecond, duration: 1 }),
        new RateLimiterMemory({ keyPrefix: `${kind}-burst`, points: Math.max(burst, 0), duration: BURST_WINDOW_S }),
      );
    }
  }

  /** Take one token of `kind` for `userId`; when there is none, how long until there is. Never rejects. */
  async spend(kind: BudgetKind, userId: number): Promise<Spend> {
    const limiter = this.#limiters[kind];
    if (!limiter) return { ok: true };
    try {
      await limiter.consume(userId);
      return { ok: true };
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(1, Math.ceil(refusal.msBeforeNext)) };
      throw refusal; // memory limiters only reject with a RateLimiterRes
    }
  }
}

/**
 * Refused frames a socket may send within the burst window before it is closed with
 * `4029 Rate limited` — a client that ignores `rate_limited` errors is flooding, not chatting.
 */
export class RefusalCounter {
  readonly #limiter: RateLimiterMemory;

  constructor(maxRefused: number) {
    this.#limiter = new RateLimiterMemory({ keyPrefix: "refused", points: Math.max(maxRefused, 1), duration: BURST_WINDOW_S });
  }

  /** Count one refusal of socket `connId`; true once it went over the allowance. */
  async exceeded(connId: string): Promise<boolean> {
    try {
      await this.#limiter.consume(connId);
      return false;
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return true;
      throw refusal;
    }
  }
}

/**
 * Users whose socket was just closed with `4029 Rate limited`: a new connection of theirs is
 * refused at the upgrade (429) until the cooldown the client is told to wait has passed
 * (`RATE_LIMITED_RECONNECT_MIN_MS`), so a script that reconnects at once to flood again costs an
 * HTTP answer, not an authentication, a claim and another burst. Only the user's own flood sets
 * it (the socket was authenticated), so nobody can lock another user out. rate-limiter-flexible's
 * `block`, keyed by user id.
 */
export class ReconnectCooldown {
  readonly #limiter: RateLimiterMemory;

  constructor(readonly cooldownMs: number) {
    this.#limiter = new RateLimiterMemory({ keyPrefix: "reconnect-cooldown", points: 1, duration: Math.ceil(cooldownMs / 1000) });
  }

  start(userId: number): void {
    void this.#limiter.block(userId, Math.ceil(this.cooldownMs / 1000));
  }

  /** Milliseconds left of the user's cooldown, or 0 when they may connect. */
  async remainingMs(userId: number): Promise<number> {
    const state = await this.#limiter.get(userId);
    return state && state.consumedPoints > this.#limiter.points ? Math.max(1, state.msBeforeNext) : 0;
  }
}
