import type { Cluster, Redis } from "ioredis";

/** Either a standalone client or a Redis Cluster client: every realtime module works with both. */
export type RedisClient = Redis | Cluster;

/**
 * Key and channel names of the Redis-backed realtime modules. Every key of one user carries the
 * hash tag `{u:<id>}`, so the Lua scripts that touch several of them stay in one Redis Cluster
 * slot (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags).
 */
export const KEY_PREFIX = "sb:";

/** Hash `{gen, inst, conn}`: the user's current connection and its generation counter. */
export function ownerKey(userId: number): string {
  return `${KEY_PREFIX}{u:${userId}}:owner`;
}

/** Hash `{epoch, seq, old}`: the user's history epoch, last assigned seq, and the oldest entry's time when last looked at (never later than the real one; redis-scripts.ts). */
export function historyMetaKey(userId: number): string {
  return `${KEY_PREFIX}{u:${userId}}:hist`;
}

/** Stream of the user's events; entry ids are `<seq>-<unix ms>` (see redis-scripts.ts). */
export function historyStreamKey(userId: number): string {
  return `${KEY_PREFIX}{u:${userId}}:events`;
}

/** Pub/sub channel of one server instance: replacement notices and live events for its sockets. */
export const INSTANCE_CHANNEL_PREFIX = `${KEY_PREFIX}inst:`;

export function instanceChannel(instanceId: string): string {
  return INSTANCE_CHANNEL_PREFIX + instanceId;
}

/**
 * Sorted set of ended sessions (member = session id, score = when its last access token expires,
 * ms) and the broadcast channel announcing new ones. Not per user: one small set (only the
 * revocations of the last access-token lifetime) that an instance loads whole.
 */
export const revokedSessionsKey = `${KEY_PREFIX}revoked-sessions`;
export const revokedSessionsChannel = `${KEY_PREFIX}revoked-sessions`;
