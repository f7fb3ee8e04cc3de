import { RestPath, type Profile, type ProfilePatch } from "../protocol/index.js";
import { HubMessageKind } from "../sdk/hub-messages.js";
import type { Api } from "./api.js";
import type { Timers } from "./connection.js";
import type { SnapshotKeeper } from "./snapshot-keeper.js";

export interface ProfileKeeperDeps {
  api: Api;
  keeper: SnapshotKeeper;
  timers: Timers;
  now: () => number;
  /** How long a fetched (or 304-confirmed) profile counts as fresh. */
  freshMs: number;
  log: (message: string) => void;
}

/**
 * Keeps the profile fresh without polling: a conditional GET with the stored ETag when a tab
 * opens and the copy is older than `freshMs`, every `freshMs` while a tab is open, and at once
 * (bypassing the HTTP cache) on a `profile` event with a new ETag. One request at a time. The
 * only client module that requests the profile endpoint (lint/profile-endpoint.grit).
 */
export class ProfileKeeper {
  readonly #deps: ProfileKeeperDeps;
  #tabs = 0;
  #timer: unknown = null;
  #fetching: Promise<void> | null = null;

  constructor(deps: ProfileKeeperDeps) {
    this.#deps = deps;
  }

  /** The number of open tabs changed: the profile is only kept fresh while one is open. */
  setTabCount(count: number): void {
    this.#tabs = count;
    if (count > 0) this.#schedule();
    else this.#deps.timers.clearTimeout(this.#timer);
  }

  /** Single-flight: twenty tabs opening at once still make one request. */
  fetch(bypassCache: boolean): Promise<void> {
    this.#fetching ??= this.#request(bypassCache).finally(() => (this.#fetching = null));
    return this.#fetching;
  }

  async onProfileEvent(etag: string): Promise<void> {
    if (etag === this.#deps.keeper.snapshot.profileEtag) return;
    // A fetch already in flight may have left before the change: then fetch once more.
    const joined = this.#fetching !== null;
    await this.fetch(true);
    if (joined) await this.fetch(true);
  }

  async refreshIfStale(): Promise<void> {
    const snapshot = this.#deps.keeper.snapshot;
    if (snapshot.user === null || this.#deps.now() - snapshot.profileCheckedAt < this.#deps.freshMs) return;
    await this.fetch(false).catch((error) => this.#deps.log(`profile refresh: ${String(error)}`));
  }

  /** PATCH the profile; the answer (with its new ETag) is the cached copy at once. */
  async update(patch: ProfilePatch): Promise<Profile> {
    const response = await this.#deps.api.request<Profile>(RestPath.profileMe, { method: "PATCH", body: patch });
    this.store(response.body, response.headers.get("etag"));
    return response.body;
  }

  store(profile: Profile, etag: string | null): void {
    this.#deps.keeper.update({ profileEtag: etag, profileCheckedAt: this.#deps.now() });
    this.#deps.keeper.apply({ kind: HubMessageKind.profile, profile });
  }

  stop(): void {
    this.#deps.timers.clearTimeout(this.#timer);
    this.#tabs = 0;
  }

  /** Conditional GET with the stored ETag; `bypassCache` after a `profile` event. */
  async #request(bypassCache: boolean): Promise<void> {
    const snapshot = this.#deps.keeper.snapshot;
    const etag = snapshot.profileEtag;
    const headers: Record<string, string> = etag && snapshot.profile ? { "if-none-match": etag } : {};
    const response = await this.#deps.api.request<Profile>(RestPath.profileMe, { headers, bypassCache });
    if (response.status === 304) {
      this.#deps.keeper.update({ profileCheckedAt: this.#deps.now() });
      return;
    }
    this.store(response.body, response.headers.get("etag"));
  }

  #schedule(): void {
    const timers = this.#deps.timers;
    timers.clearTimeout(this.#timer);
    const age = this.#deps.now() - this.#deps.keeper.snapshot.profileCheckedAt;
    const wait = Math.max(1000, this.#deps.freshMs - age);
    this.#timer = timers.setTimeout(async () => {
      if (this.#tabs === 0) return;
      await this.refreshIfStale();
      this.#schedule();
    }, wait);
  }
}
