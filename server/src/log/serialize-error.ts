import { maskText } from "./mask.js";

/**
 * The only fields of an error that reach a log line. Database drivers hang the failed query's
 * context on their errors — `parameters`/`params` and `query` (PGlite), `detail`, `where`,
 * `internalQuery` (pg) — and those hold message text, e-mails, phones and usernames; pino's
 * default serializer copies every enumerable property, so it would log them all. This keeps an
 * allow-list instead: the error's class, its (masked) message, a short error code (`23505`,
 * `ECONNREFUSED`), the stack frames (code locations only: the first line of `stack` repeats the
 * message, so it is dropped) and, one level deep, its cause.
 */
export interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError;
}

const MAX_MESSAGE_LENGTH = 500;
const MAX_STACK_FRAMES = 12;
// Error codes are short identifiers (SQLSTATE, errno names); anything else is not a code.
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,40}$/;

export function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === "object" && value !== null && typeof (value as Error).message === "string" && typeof (value as Error).stack === "string")
  );
}

export function serializeError(error: unknown, depth = 0): SerializedError | unknown {
  if (!isErrorLike(error)) return error;
  const code = (error as { code?: unknown }).code;
  const frames = (error.stack ?? "")
    .split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .slice(0, MAX_STACK_FRAMES);
  const serialized: SerializedError = {
    type: error.name || error.constructor?.name || "Error",
    message: maskText(String(error.message)).slice(0, MAX_MESSAGE_LENGTH),
  };
  if ((typeof code === "string" && ERROR_CODE.test(code)) || typeof code === "number") serialized.code = String(code);
  if (frames.length) serialized.stack = frames.join("\n");
  const cause = (error as { cause?: unknown }).cause;
  if (depth < 1 && isErrorLike(cause)) serialized.cause = serializeError(cause, depth + 1) as SerializedError;
  return serialized;
}
