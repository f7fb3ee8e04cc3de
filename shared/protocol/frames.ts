import * as v from "valibot";
import { multiLineText, singleLineText } from "./text.js";

/**
 * JSON text frames of the chat socket. Every frame has `type`.
 * Described in docs/protocol.md#frames. Validators are valibot schemas so the server can reject a
 * bad frame with a precise `error` frame and the client can ignore garbage without throwing.
 */

export const ClientFrameType = {
  ping: "ping",
  resume: "resume",
  send: "send",
  read: "read",
} as const;
export type ClientFrameType = (typeof ClientFrameType)[keyof typeof ClientFrameType];

export const ServerFrameType = {
  welcome: "welcome",
  pong: "pong",
  event: "event",
  ack: "ack",
  resumed: "resumed",
  error: "error",
} as const;
export type ServerFrameType = (typeof ServerFrameType)[keyof typeof ServerFrameType];

export const EventKind = {
  message: "message",
  unread: "unread",
  profile: "profile",
  /** To a message's sender: the recipient read their messages up to `upToMessageId`. */
  read: "read",
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Codes of `error` frames (and of REST `{error:{code}}` bodies where they apply). */
export const FrameErrorCode = {
  badJson: "bad_json",
  binaryNotSupported: "binary_not_supported",
  unknownType: "unknown_type",
  invalidFrame: "invalid_frame",
  notFound: "not_found",
  /**
   * The frame's kind (send, read, resume, ping) is over the user's budget and was not handled.
   * `retryAfterMs` says when one is allowed again; a `send` refused so carries its `clientMsgId`
   * and was not stored (retry it, or send it over REST later). Clients that keep going are closed
   * with `4029 Rate limited`.
   */
  rateLimited: "rate_limited",
  internal: "internal",
} as const;
export type FrameErrorCode = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

/** Largest message body a client may send, in UTF-16 code units. */
export const MAX_MESSAGE_BODY = 4000;
/** Largest `clientMsgId` (idempotency key) length. */
export const MAX_CLIENT_MSG_ID = 100;

const UserId = v.pipe(v.number(), v.integer(), v.minValue(1));
const Seq = v.pipe(v.number(), v.integer(), v.minValue(0));
const MessageBody = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_MESSAGE_BODY), multiLineText());
const ClientMsgId = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLIENT_MSG_ID), singleLineText());

export const PingFrame = v.object({ type: v.literal(ClientFrameType.ping) });
export const ResumeFrame = v.object({
  type: v.literal(ClientFrameType.resume),
  epoch: v.pipe(v.string(), v.maxLength(64), singleLineText()),
  seq: Seq,
});
export const SendFrame = v.object({
  type: v.literal(ClientFrameType.send),
  clientMsgId: ClientMsgId,
  to: UserId,
  body: MessageBody,
});
export const ReadFrame = v.object({
  type: v.literal(ClientFrameType.read),
  peerId: UserId,
  upToMessageId: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

export const ClientFrame = v.variant("type", [PingFrame, ResumeFrame, SendFrame, ReadFrame]);
export type ClientFrame = v.InferOutput<typeof ClientFrame>;
export type SendFrame = v.InferOutput<typeof SendFrame>;
export type ReadFrame = v.InferOutput<typeof ReadFrame>;
export type ResumeFrame = v.InferOutput<typeof ResumeFrame>;

/** A chat message as REST and events show it. */
export const ChatMessage = v.object({
  id: v.number(),
  from: UserId,
  to: UserId,
  body: v.string(),
  clientMsgId: v.nullable(v.string()),
  createdAt: v.string(),
  readAt: v.nullable(v.string()),
});
export type ChatMessage = v.InferOutput<typeof ChatMessage>;

export const MessageEvent = v.object({ kind: v.literal(EventKind.message), message: ChatMessage });
export const UnreadEvent = v.object({ kind: v.literal(EventKind.unread), count: Seq });
export const ProfileEvent = v.object({ kind: v.literal(EventKind.profile), etag: v.string() });
export const ReadEvent = v.object({ kind: v.literal(EventKind.read), readerId: UserId, upToMessageId: v.number(), readAt: v.string() });
export const ChatEvent = v.variant("kind", [MessageEvent, UnreadEvent, ProfileEvent, ReadEvent]);
export type ChatEvent = v.InferOutput<typeof ChatEvent>;

export const WelcomeFrame = v.object({
  type: v.literal(ServerFrameType.welcome),
  userId: UserId,
  connId: v.string(),
  generation: v.number(),
  epoch: v.string(),
  seq: Seq,
  heartbeatIntervalMs: v.number(),
  /** The upgrade's `resume.{epoch}.{seq}` entry was taken: the replay and `resumed` follow, send no `resume`. */
  resuming: v.optional(v.literal(true)),
});
export const PongFrame = v.object({ type: v.literal(ServerFrameType.pong) });
export const EventFrame = v.object({
  type: v.literal(ServerFrameType.event),
  seq: Seq,
  epoch: v.string(),
  event: ChatEvent,
});
export const AckFrame = v.object({
  type: v.literal(ServerFrameType.ack),
  clientMsgId: v.string(),
  messageId: v.number(),
  message: v.optional(ChatMessage),
});
export const ResumedFrame = v.object({
  type: v.literal(ServerFrameType.resumed),
  recovered: v.boolean(),
  epoch: v.optional(v.string()),
  seq: v.optional(Seq),
});
export const ErrorFrame = v.object({
  type: v.literal(ServerFrameType.error),
  code: v.string(),
  message: v.string(),
  clientMsgId: v.optional(v.string()),
  /** With `rate_limited`: milliseconds until the budget allows this kind of frame again. */
  retryAfterMs: v.optional(v.number()),
});

export const ServerFrame = v.variant("type", [WelcomeFrame, PongFrame, EventFrame, AckFrame, ResumedFrame, ErrorFrame]);
export type ServerFrame = v.InferOutput<typeof ServerFrame>;
export type WelcomeFrame = v.InferOutput<typeof WelcomeFrame>;
export type EventFrame = v.InferOutput<typeof EventFrame>;
export type AckFrame = v.InferOutput<typeof AckFrame>;
export type ResumedFrame = v.InferOutput<typeof ResumedFrame>;
export type ErrorFrame = v.InferOutput<typeof ErrorFrame>;

/**
 * A refused `send` frame whose own `clientMsgId` is valid names it in `clientMsgId`, so the client
 * can match the `error` frame to the message it refused (and stop waiting for its ack).
 */
export type ParseResult<T> = { ok: true; frame: T } | { ok: false; code: FrameErrorCode; message: string; clientMsgId?: string };

function parseWith<T>(schema: v.GenericSchema<unknown, T>, text: string): ParseResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: FrameErrorCode.badJson, message: "Frame is not valid JSON" };
  }
  if (typeof json !== "object" || json === null || typeof (json as { type?: unknown }).type !== "string") {
    return { ok: false, code: FrameErrorCode.invalidFrame, message: 'Frame must be a JSON object with a string "type"' };
  }
  const result = v.safeParse(schema, json);
  if (result.success) return { ok: true, frame: result.output };
  const first = result.issues[0];
  const isTypeIssue = first.path?.[0]?.key === "type" || (first.kind === "schema" && first.type === "variant");
  if (isTypeIssue && !knownTypes(schema).has((json as { type: string }).type)) {
    return { ok: false, code: FrameErrorCode.unknownType, message: `Unknown frame type "${String((json as { type: string }).type).slice(0, 40)}"` };
  }
  const where = first.path?.map((p) => String(p.key)).join(".") ?? "frame";
  const refused = { ok: false as const, code: FrameErrorCode.invalidFrame, message: `Invalid ${where}: ${first.message}` };
  const clientMsgId =
    (json as { type: string; clientMsgId?: unknown }).type === ClientFrameType.send ? (json as { clientMsgId?: unknown }).clientMsgId : undefined;
  return v.is(ClientMsgId, clientMsgId) ? { ...refused, clientMsgId } : refused;
}

function knownTypes(schema: unknown): Set<string> {
  const options = (schema as { options?: Array<{ entries: { type: { literal: string } } }> }).options ?? [];
  return new Set(options.map((o) => o.entries.type.literal));
}

/** Parse a client → server text frame. Never throws. */
export function parseClientFrame(text: string): ParseResult<ClientFrame> {
  return parseWith(ClientFrame, text);
}

/** Parse a server → client text frame. Never throws. */
export function parseServerFrame(text: string): ParseResult<ServerFrame> {
  return parseWith(ServerFrame, text);
}
