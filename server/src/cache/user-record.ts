import * as v from "valibot";

/**
 * A cached user object: an integer `id` plus whatever the legacy writer or the server put in
 * (username, email, phone, name, avatar, role, permissions, bio, updated_at, ...).
 */
export type UserRecord = Record<string, unknown>;

export const UserRecordSchema = v.looseObject({
  id: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
});

/** The record if `value` is a user object (and, when `expectedId` is given, that user's), else null. */
export function asUserRecord(value: unknown, expectedId?: number): UserRecord | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  if (!v.is(UserRecordSchema, value)) return null;
  if (expectedId !== undefined && value.id !== expectedId) return null;
  return value as UserRecord;
}

/** The numeric user id at the end of a key (`user:42` → 42), or undefined if it is not one. */
export function userIdFromKey(key: string, prefix: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  return /^(0|[1-9]\d{0,15})$/.test(rest) && Number.isSafeInteger(Number(rest)) ? Number(rest) : undefined;
}
