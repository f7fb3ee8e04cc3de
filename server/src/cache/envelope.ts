import * as v from "valibot";
import { UserRecordSchema, type UserRecord } from "./user-record.js";

/**
 * The v2 cache envelope (DESIGN.md §4), the only format written:
 * `{"schema_version":"2","content_type":"application/json","data":{...},"created_at":"ISO-8601"}`.
 * Validated on write and on read; an envelope with any field wrong is not used.
 */
export const ENVELOPE_SCHEMA_VERSION = "2";
export const ENVELOPE_CONTENT_TYPE = "application/json";

const CreatedAtSchema = v.pipe(v.string(), v.isoTimestamp());

export const EnvelopeSchema = v.strictObject({
  schema_version: v.literal(ENVELOPE_SCHEMA_VERSION),
  content_type: v.literal(ENVELOPE_CONTENT_TYPE),
  data: UserRecordSchema,
  created_at: CreatedAtSchema,
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

const ENVELOPE_HEAD = Buffer.from(`{"schema_version":"${ENVELOPE_SCHEMA_VERSION}","content_type":"${ENVELOPE_CONTENT_TYPE}","data":`);

/**
 * Builds envelopes around the exact JSON text a record was parsed from, without re-serializing
 * it (the migration tool's hot path). Only for text that `JSON.parse` turned into a record that
 * passed `asUserRecord`; the other fields are constants and `createdAt` is checked once here.
 */
export function envelopeBuilder(createdAt: string): (json: Buffer) => Buffer {
  if (!v.is(CreatedAtSchema, createdAt)) throw new InvalidUserRecordError(`created_at "${createdAt}" is not an ISO 8601 timestamp`);
  const tail = Buffer.from(`,"created_at":"${createdAt}"}`);
  return (json) => Buffer.concat([ENVELOPE_HEAD, json, tail]);
}

/** Where the data's JSON text starts inside an envelope made by `envelopeBuilder`. */
export const ENVELOPE_DATA_OFFSET = ENVELOPE_HEAD.length;

/** The legacy v1 form written in rollback mode `v1`: the bare JSON object. */
export function encodeV1Json(data: UserRecord): string {
  if (!v.is(UserRecordSchema, data)) throw new InvalidUserRecordError("no integer id");
  return JSON.stringify(data);
}
