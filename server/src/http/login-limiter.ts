import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { clientAddressKey } from "./client-address.js";

export interface LoginLimits {
  /** Failed logins for one username from one IP address within the window; then that pair waits. @default 5 */
  maxFailuresPerUsernameAndIp: number;
  /** @default 900 (15 minutes) */
  usernameAndIpWindowS: number;
  /** Failed logins from one IP address (any usernames) within the window; then that address waits. @default 100 */
  maxFailuresPerIp: number;
  /** @default 3600 (1 hour) */
  ipWindowS: number;
}

/** Which limit refused an attempt (a metric label). */
export type LoginLimitScope = "ip" | "username_ip";

export type LoginVerdict = { allowed: true } | { allowed: false; scope: LoginLimitScope; retryAfterS: number };

export interface LoginLimiterOptions {
  /**
   * The server's Redis client. Counters live there so every instance sees the same ones; while
   * it is not `ready` (an outage, a reconnect) each instance counts in memory instead.
   */
  redis: Redis | Cluster;
  limits: LoginLimits;
  /** @default "sb:login" */
  keyPrefix?: string;
}

/**
 * Brute-force protection of `POST /api/auth/login`, after the rate-limiter-flexible guide
 * "Login endpoint protection" (https://github.com/animir/node-rate-limiter-flexible/wiki/Overall-example#login-endpoint-protection):
 * only failures count, a success clears its username+IP counter, and an attempt over a limit is
 * refused before the password is hashed, so it costs no scrypt.
 *
 * Two counters, because each alone has a hole: per username+IP stops guessing one account
 * without letting an attacker lock the real user out (the user's own address has its own
 * counter); per IP stops one address from trying many usernames. Usernames are hashed in the
 * keys, so Redis holds no username in clear.
 */
export class LoginLimiter {
  readonly #byUsernameAndIp: RateLimiterAbstract;
  readonly #byIp: RateLimiterAbstract;
  readonly #limits: LoginLimits;

  constructor({ redis, limits, keyPrefix = "sb:login" }: LoginLimiterOptions) {
    this.#limits = limits;
    const limiter = (name: string, points: number, duration: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${keyPrefix}:${name}`,
        points,
        duration,
        // Fail over to memory at once while the client is not connected, instead of waiting
        // for a command to time out: a login must not hang on a Redis outage.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${keyPrefix}:${name}`, points, duration }),
      });
    this.#byUsernameAndIp = limiter("user-ip", limits.maxFailuresPerUsernameAndIp, limits.usernameAndIpWindowS);
    this.#byIp = limiter("ip", limits.maxFailuresPerIp, limits.ipWindowS);
  }

  /** Whether an attempt may go on to the password check. `ip` is the client's address (`req.ip`). */
  async check(ip: string, username: string): Promise<LoginVerdict> {
    const [pair, address] = await Promise.all([this.#byUsernameAndIp.get(pairKey(ip, username)), this.#byIp.get(clientAddressKey(ip))]);
    if (address && address.consumedPoints >= this.#limits.maxFailuresPerIp) return refused("ip", address);
    if (pair && pair.consumedPoints >= this.#limits.maxFailuresPerUsernameAndIp) return refused("username_ip", pair);
    return { allowed: true };
  }

  /** Counts a failed attempt against both limits. */
  async recordFailure(ip: string, username: string): Promise<void> {
    // A rejection only says the counter is over its limit now; the next `check` refuses.
    await Promise.all([
      this.#byUsernameAndIp.consume(pairKey(ip, username)).catch(ignoreOverLimit),
      this.#byIp.consume(clientAddressKey(ip)).catch(ignoreOverLimit),
    ]);
  }

  /** A correct password from this address forgets its failures for this username. */
  async recordSuccess(ip: string, username: string): Promise<void> {
    await this.#byUsernameAndIp.delete(pairKey(ip, username));
  }
}

function pairKey(ip: string, username: string): string {
  return `${usernameKey(username)}:${clientAddressKey(ip)}`;
}

/** Usernames compare case-insensitively here, so `Alice` and `alice` share a counter. */
export function usernameKey(username: string): string {
  return createHash("sha256").update(username.normalize("NFKC").toLowerCase()).digest("hex").slice(0, 32);
}

function refused(scope: LoginLimitScope, result: RateLimiterRes): LoginVerdict {
  return { allowed: false, scope, retryAfterS: Math.max(1, Math.ceil(result.msBeforeNext / 1000)) };
}

function ignoreOverLimit(error: unknown): void {
  if (error instanceof RateLimiterRes) return;
  throw error;
}
