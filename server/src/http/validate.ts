import * as v from "valibot";
import { MAX_CLIENT_MSG_ID, MAX_MESSAGE_BODY, RefreshTransport, RestErrorCode, multiLineText, singleLineText } from "../../../shared/protocol/index.js";
import { AVATAR_URL_RULE, isAllowedAvatarUrl } from "./avatar-url.js";
import { HttpError } from "./errors.js";

/** Validate a request body or query; a failure is a 400 naming the first bad field. */
export function parse<T>(schema: v.GenericSchema<unknown, T>, input: unknown): T {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const where = issue.path?.map((p) => String(p.key)).join(".") || "body";
  throw new HttpError(400, RestErrorCode.invalidBody, `Invalid ${where}: ${issue.message}`);
}

export const LoginBody = v.object({
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(100), singleLineText()),
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  refreshTransport: v.optional(v.picklist(Object.values(RefreshTransport))),
});
/** Without `refreshToken` the session cookie carries it (`RefreshTransport.cookie`). */
export const RefreshBody = v.object({ refreshToken: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))) });

const Email = v.pipe(v.string(), v.trim(), v.email(), v.maxLength(200), singleLineText());
export const ProfilePatchBody = v.strictObject({
  displayName: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100), singleLineText())),
  bio: v.optional(v.pipe(v.string(), v.maxLength(1000), multiLineText())),
  avatarUrl: v.optional(v.nullable(v.pipe(v.string(), v.url(), v.maxLength(500), v.check(isAllowedAvatarUrl, AVATAR_URL_RULE)))),
  phone: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^\+?[0-9 ()-]{5,20}$/), v.maxLength(20)))),
  email: v.optional(Email),
});
export const RoleBody = v.object({
  role: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]{0,31}$/)),
  permissions: v.optional(v.pipe(v.array(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_.:-]{0,63}$/))), v.maxLength(50))),
});

const Id = v.pipe(v.unknown(), v.transform(Number), v.number(), v.integer(), v.minValue(1));
export const IdParam = Id;
export const SendMessageBody = v.object({
  to: v.pipe(v.number(), v.integer(), v.minValue(1)),
  body: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_MESSAGE_BODY), multiLineText()),
  clientMsgId: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLIENT_MSG_ID), singleLineText()))),
});
export const ReadBody = v.object({
  peerId: v.pipe(v.number(), v.integer(), v.minValue(1)),
  upToMessageId: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export const ListMessagesQuery = v.object({
  peerId: Id,
  limit: v.optional(v.pipe(v.unknown(), v.transform(Number), v.number(), v.integer(), v.minValue(1), v.maxValue(200)), 50),
  before: v.optional(Id),
});
