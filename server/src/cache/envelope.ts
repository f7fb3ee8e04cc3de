import * as v from "valibot";
import { UserRecordSchema, type UserRecord } from "./user-record.js";

/**
 * The v2 cache envelope (docs/cache.md#the-v2-envelope), the only format written:
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

/** The constant bytes around the data's JSON text in an envelope stamped `created_at`. */
export interface EnvelopeParts {
  head: Buffer;
  tail: Buffer;
}

/**
 * The bytes before and after the data's JSON text in an envelope stamped `createdAt` (checked
 * once here). The migration tool sends these once per Redis call and the exact JSON text a
 * record was parsed from per key, so Redis assembles `head .. json .. tail` itself: no
 * re-serializing, and a v1 JSON value crosses the wire once, as the compare-and-set's expected
 * value. Only for text that `JSON.parse` turned into a record that passed `asUserRecord`.
 */
export function envelopeParts(createdAt: string): EnvelopeParts {
  if (!v.is(CreatedAtSchema, createdAt)) throw new InvalidUserRecordError(`created_at "${createdAt}" is not an ISO 8601 timestamp`);
  return { head: ENVELOPE_HEAD, tail: Buffer.from(`,"created_at":"${createdAt}"}`) };
}

/** Builds envelopes around the exact JSON text a record was parsed from (see `envelopeParts`). */
export function envelopeBuilder(createdAt: string): (json: Buffer) => Buffer {
  const { head, tail } = envelopeParts(createdAt);
  return (json) => Buffer.concat([head, json, tail]);
}

/** Where the data's JSON text starts inside an envelope made by `envelopeBuilder`. */
export const ENVELOPE_DATA_OFFSET = ENVELOPE_HEAD.length;

/** The legacy v1 form written in rollback mode `v1`: the bare JSON object. */
export function encodeV1Json(data: UserRecord): string {
  if (!v.is(UserRecordSchema, data)) throw new InvalidUserRecordError("no integer id");
  return JSON.stringify(data);
}
