import { LRUCache } from "lru-cache";

/**
 * How this instance hears of profile changes made on the others (`redis-profile-changes.ts`).
 * Without a feed (one instance, no Redis) every change is made here and the entries are always
 * current.
 */
export interface ProfileChangeFeed {
  /**
   * Resolves true once every change announced before this call has reached this instance (its
   * entries are forgotten by then); false when that cannot be proven (Redis down, a slow or lost
   * connection): the caller answers from the source instead.
   */
  caughtUp(): Promise<boolean>;
  /** Tell the other instances that the user's profile changed (after the change is stored). */
  announce(userId: number): Promise<void>;
}

export interface ProfileEtagsOptions {
  /** Users whose current ETag is kept; the least recently used goes first. @default 50000 */
  maxEntries?: number;
  /**
   * How long an entry is trusted. Changes made through this server invalidate at once; the
   * lifetime bounds what the feed cannot see: an operator's SQL, an instance of a version
   * without the feed during a rolling deploy. Equal to the profile's `max-age`, the staleness a
   * browser already accepts. @default 300000 (5 min)
   */
  ttlMs?: number;
}

/**
 * The current profile ETag per user, kept in this process so the conditional refresh
 * (`If-None-Match` → `304`) needs no Redis or database read. An entry is only ever written from
 * a response built from the source (the user cache / database) and is dropped:
 *
 * - when the profile changes here (`changed`) or on another instance (`forget`, from the feed);
 * - all at once, and nothing trusted, whenever the feed may have missed a change (`suspend`,
 *   e.g. Redis down or the subscriber reconnecting) until it is caught up again (`resume`);
 * - when it is older than `ttlMs`, or the least recently used beyond `maxEntries`.
 *
 * Every answer from memory waits for `feed.caughtUp()`, so a change whose announcement completed
 * before the request arrived is never missed, whatever the timing of the pub/sub delivery.
 */
export class ProfileEtags {
  readonly #entries: LRUCache<number, string>;
  /** Bumped by every forget/suspend/resume: a read of the source that spans one is not remembered. */
  #generation = 0;
  #trusted = true;
  #feed: ProfileChangeFeed | null = null;

  constructor(options: ProfileEtagsOptions = {}) {
    this.#entries = new LRUCache<number, string>({ max: options.maxEntries ?? 50_000, ttl: options.ttlMs ?? 300_000 });
  }

  /** Set once by the Redis realtime layer; nothing is trusted until it calls `resume`. */
  useFeed(feed: ProfileChangeFeed): void {
    this.#feed = feed;
    this.suspend();
  }

  /** Entries kept (for tests and leak checks). */
  get size(): number {
    return this.#entries.size;
  }

  get trusted(): boolean {
    return this.#trusted;
  }

  /** Taken before reading the source; pass it to `remember`. */
  stamp(): number {
    return this.#generation;
  }

  /** A response built from the source: kept unless a change may have overtaken the read. */
  remember(userId: number, etag: string, stamp: number): void {
    if (this.#trusted && stamp === this.#generation) this.#entries.set(userId, etag);
  }

  /** The user's current ETag if this instance knows it for sure, else undefined (ask the source). */
  async current(userId: number): Promise<string | undefined> {
    if (!this.#trusted || !this.#entries.has(userId)) return undefined;
    if (this.#feed && !(await this.#feed.caughtUp())) return undefined;
    // Everything announced before the request has been applied by now (or trust was withdrawn).
    return this.#trusted ? this.#entries.get(userId) : undefined;
  }

  /** The profile changed through this instance (and is stored): forget it here, then tell the others. */
  async changed(userId: number): Promise<void> {
    this.forget(userId);
    await this.#feed?.announce(userId);
  }

  /** A change made elsewhere. */
  forget(userId: number): void {
    this.#generation += 1;
    this.#entries.delete(userId);
  }

  /** A change the feed could not attribute to a user. */
  forgetAll(): void {
    this.#generation += 1;
    this.#entries.clear();
  }

  /** The feed may miss changes from now on: drop everything and answer from the source. */
  suspend(): void {
    this.#generation += 1;
    this.#trusted = false;
    this.#entries.clear();
  }

  /** The feed delivers every change again (subscribed, Redis up). */
  resume(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#trusted = true;
  }
}
