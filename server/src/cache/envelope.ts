import * as v from "valibot";
import { UserRecordSchema, type UserRecord } from "./user-record.js";

/**
 * The v2 cache envelope (DESIGN.md §4), the only format written:
 * `{"schema_version":"2","content_type":"application/json","data":{...},"created_at":"ISO-8601"}`.
 * Validated on write and on read; an envelope with any field wrong is not used.
 */
export const ENVELOPE_SCHEMA_VERSION = "2";
export const ENVELOPE_CONTENT_TYPE = "application/json";

export const EnvelopeSchema = v.strictObject({
  schema_version: v.literal(ENVELOPE_SCHEMA_VERSION),
  content_type: v.literal(ENVELOPE_CONTENT_TYPE),
  data: UserRecordSchema,
  created_at: v.pipe(v.string(), v.isoTimestamp()),
});

export type Envelope = v.InferOutput<typeof EnvelopeSchema>;

/** True when a parsed JSON object claims to be an envelope (so it is never read as v1 data). */
export function looksLikeEnvelope(value: object): boolean {
  return Object.hasOwn(value, "schema_version");
}

/** The user record inside a parsed envelope, or null when the envelope is invalid. */
export function unwrapEnvelope(value: unknown): UserRecord | null {
  const result = v.safeParse(EnvelopeSchema, value);
  return result.success ? (result.output.data as UserRecord) : null;
}

export class InvalidUserRecordError extends Error {
  constructor(reason: string) {
    super(`Refusing to cache a value that is not a user object (${reason}); it must be a plain object with an integer "id".`);
    this.name = "InvalidUserRecordError";
  }
}

/** Serializes `data` as a v2 envelope, after validating the envelope about to be written. */
export function encodeEnvelope(data: UserRecord, now: Date = new Date()): string {
  const envelope = {
    schema_version: ENVELOPE_SCHEMA_VERSION,
    content_type: ENVELOPE_CONTENT_TYPE,
    data,
    created_at: now.toISOString(),
  };
  if (!v.is(EnvelopeSchema, envelope)) throw new InvalidUserRecordError("envelope validation failed");
  return JSON.stringify(envelope);
}

/** The legacy v1 form written in rollback mode `v1`: the bare JSON object. */
export function encodeV1Json(data: UserRecord): string {
  if (!v.is(UserRecordSchema, data)) throw new InvalidUserRecordError("no integer id");
  return JSON.stringify(data);
}
