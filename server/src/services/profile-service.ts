import etag from "etag";
import { EventKind, type ChatEvent, type Profile } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import type { ProfilePatch, PublicUser, Store } from "../store/store.js";
import { ProfileEtags } from "./profile-etags.js";

/** What the server needs of the Redis user cache (server/src/cache/user-cache.ts). */
export interface ProfileCache {
  get(userId: number): Promise<Record<string, unknown> | null>;
  set(userId: number, data: Record<string, unknown>): Promise<void>;
  invalidate(userId: number): Promise<void>;
}

export type Publish = (userId: number, event: ChatEvent) => Promise<void>;

/**
 * The cached `user:{id}` record: the legacy field names (`name`, `avatar`, `user_level`, …) so
 * old readers keep working, plus what the profile needs (`role`, `permissions`, `bio`,
 * `updated_at`).
 */
export function toCacheRecord(user: PublicUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    name: user.display_name,
    email: user.email,
    phone: user.phone,
    avatar: user.avatar_url,
    bio: user.bio,
    role: user.role,
    permissions: user.permissions,
    user_level: user.user_level,
    is_active: user.is_active,
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

/** A cached record is usable for the profile only if it has everything the profile shows. */
export function profileFromRecord(record: Record<string, unknown>): Profile | null {
  const { id, username, name, email, role, permissions, updated_at } = record;
  if (typeof id !== "number" || typeof username !== "string" || typeof name !== "string" || typeof email !== "string") return null;
  if (typeof role !== "string" || !Array.isArray(permissions) || typeof updated_at !== "string") return null;
  return {
    id,
    username,
    displayName: name,
    email,
    phone: typeof record.phone === "string" ? record.phone : null,
    avatarUrl: typeof record.avatar === "string" ? record.avatar : null,
    bio: typeof record.bio === "string" ? record.bio : "",
    role,
    permissions: permissions.filter((p): p is string => typeof p === "string"),
    updatedAt: updated_at,
  };
}

/** The exact response body and its strong ETag. The body carries the user id, role and permissions, so the ETag covers them. */
export function renderProfile(profile: Profile): { body: string; etag: string } {
  const body = JSON.stringify(profile);
  return { body, etag: etag(body, { weak: false }) };
}

export class ProfileService {
  constructor(
    private readonly store: Store,
    private readonly cache: ProfileCache,
    private readonly publish: Publish,
    private readonly logger: Logger,
    /** Current ETags kept in process for the conditional refresh; a private one when not shared. */
    readonly etags: ProfileEtags = new ProfileEtags(),
  ) {}

  /**
   * The user's current profile ETag when this instance knows it for sure (no Redis or database
   * read), else undefined: build the answer with `render`.
   */
  knownEtag(userId: number): Promise<string | undefined> {
    return this.etags.current(userId);
  }

  /** The response body and ETag, from the source (`get`); the ETag is remembered for `knownEtag`. */
  async render(userId: number): Promise<{ body: string; etag: string } | null> {
    const stamp = this.etags.stamp();
    const profile = await this.get(userId);
    if (!profile) return null;
    const rendered = renderProfile(profile);
    this.etags.remember(userId, rendered.etag, stamp);
    return rendered;
  }

  /** Cache first (0 database queries when warm); a miss or an unusable record loads from the database. */
  async get(userId: number): Promise<Profile | null> {
    const cached = await this.cache.get(userId);
    const fromCache = cached ? profileFromRecord(cached) : null;
    if (fromCache && fromCache.id === userId) return fromCache;
    const user = await this.store.findUserById(userId);
    if (!user) return null;
    const record = toCacheRecord(user);
    await this.cache.set(userId, record);
    return profileFromRecord(record);
  }

  async update(userId: number, patch: ProfilePatch): Promise<Profile | null> {
    const user = await this.store.updateProfile(userId, patch);
    return user ? this.#changed(user) : null;
  }

  async setRole(userId: number, role: string, permissions: string[] | undefined): Promise<Profile | null> {
    const user = await this.store.setRole(userId, role, permissions);
    return user ? this.#changed(user) : null;
  }

  async #changed(user: PublicUser): Promise<Profile> {
    const record = toCacheRecord(user);
    await this.cache.set(user.id, record);
    const profile = profileFromRecord(record)!;
    // Before the request returns and before the user's clients hear of it: from now on no
    // instance answers 304 for the old ETag (RedisProfileChanges).
    await this.etags.changed(user.id);
    try {
      await this.publish(user.id, { kind: EventKind.profile, etag: renderProfile(profile).etag });
    } catch (error) {
      this.logger.warn({ err: error, userId: user.id }, "profile event not published");
    }
    return profile;
  }
}
