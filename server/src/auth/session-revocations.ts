/**
 * Sessions (refresh-token families) that were logged out, kept in this process until the last
 * access token they could cover has expired. Every authenticated request and every socket upgrade
 * asks `isRevoked(sessionId)`, so the check is one map lookup — no Redis round trip on the hot
 * path (the 304 profile answer stays close to a bare Express handler).
 *
 * Instances learn each other's revocations through `RevocationSharing` (Redis: a sorted set loaded
 * at start and after an outage, plus a pub/sub channel for new ones). A revocation made here holds
 * here at once, whatever Redis does.
 */

/** Shares this instance's revocations with the other instances. */
export interface RevocationSharing {
  /** Store and announce; while the backend is unreachable it keeps them and retries later. */
  share(sessionIds: readonly string[], expiresAtMs: number): Promise<void>;
}

export type RevokedListener = (sessionIds: ReadonlySet<string>) => void;

export interface SessionRevocationsOptions {
  /** How long a revocation must be kept: the access-token lifetime (no token it covers lives longer). */
  accessTtlMs: number;
  now?: () => number;
  /** How often expired entries are dropped. @default 60000 */
  sweepIntervalMs?: number;
}

export class SessionRevocations {
  /** Session id → when its last access token expires (ms). */
  readonly #revoked = new Map<string, number>();
  readonly #listeners = new Set<RevokedListener>();
  readonly #accessTtlMs: number;
  readonly #now: () => number;
  readonly #sweepTimer: NodeJS.Timeout;
  #sharing: RevocationSharing | null = null;

  constructor(options: SessionRevocationsOptions) {
    this.#accessTtlMs = options.accessTtlMs;
    this.#now = options.now ?? Date.now;
    this.#sweepTimer = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 60_000);
    this.#sweepTimer.unref();
  }

  /** Where revocations made here are shared (set once by the Redis realtime layer). */
  useSharing(sharing: RevocationSharing): void {
    this.#sharing = sharing;
  }

  isRevoked(sessionId: string): boolean {
    const until = this.#revoked.get(sessionId);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#revoked.delete(sessionId);
    return false;
  }

  /** How long a revocation is kept: the access-token lifetime. */
  get accessTtlMs(): number {
    return this.#accessTtlMs;
  }

  /** Entries currently kept (for tests and leak checks). */
  get size(): number {
    return this.#revoked.size;
  }

  /**
   * End sessions from this instance: refused here at once (and their sockets here closed), then
   * shared. Revoked until now + access TTL: every access token of these sessions was issued by now.
   */
  async revoke(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const expiresAtMs = this.#now() + this.#accessTtlMs;
    this.learn(sessionIds.map((id) => [id, expiresAtMs]));
    await this.#sharing?.share(sessionIds, expiresAtMs);
  }

  /** Revocations made elsewhere (another instance, or a snapshot loaded from Redis). Listeners hear only new ones. */
  learn(entries: Iterable<readonly [sessionId: string, expiresAtMs: number]>): void {
    const now = this.#now();
    const added = new Set<string>();
    for (const [sessionId, expiresAtMs] of entries) {
      if (expiresAtMs <= now) continue;
      const known = this.#revoked.get(sessionId);
      if (known !== undefined && known > now) {
        if (expiresAtMs > known) this.#revoked.set(sessionId, expiresAtMs);
        continue;
      }
      this.#revoked.set(sessionId, expiresAtMs);
      added.add(sessionId);
    }
    if (added.size === 0) return;
    for (const listener of this.#listeners) listener(added);
  }

  /** Called with newly revoked session ids (to close their sockets). Returns the remover. */
  onRevoked(listener: RevokedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [sessionId, until] of this.#revoked) if (until <= now) this.#revoked.delete(sessionId);
  }

  close(): void {
    clearInterval(this.#sweepTimer);
    this.#listeners.clear();
  }
}
