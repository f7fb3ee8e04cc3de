import { pino, type Logger } from "pino";
import { maskText } from "./mask.js";
import { isErrorLike, serializeError } from "./serialize-error.js";

export type { Logger };

/**
 * JSON logs (pino). Secrets are removed by path (`redact`), and every string that reaches a
 * log line is masked (e-mails, phones, JWTs) by the `formatters.log` hook, so a stray
 * `{ email }` or a message quoting a value cannot leak personal data.
 */
export const REDACT_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["sec-websocket-protocol"]',
  "headers.authorization",
  "headers.cookie",
  'headers["sec-websocket-protocol"]',
  // The refresh cookie the server sets for the web app without the extension.
  'res.headers["set-cookie"]',
  'headers["set-cookie"]',
];

function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskText(value);
  // Errors keep only their allow-listed fields wherever they sit in the object (`err`, `error`, `cause`, …).
  if (isErrorLike(value)) return serializeError(value);
  if (value === null || typeof value !== "object") return value;
  // Deeper than this is cut rather than copied unmasked.
  if (depth > 4) return "[too deep]";
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth + 1);
  return out;
}

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream | pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? "switchboard",
      level: options.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      // Also for child-logger bindings, which do not pass through `formatters.log`.
      serializers: { err: serializeError, error: serializeError },
      formatters: { log: (object) => maskDeep(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // Mask the message string too (the formatter only sees the merged object).
          const masked = args.map((a) => (typeof a === "string" ? maskText(a) : a)) as typeof args;
          method.apply(this, masked);
        },
      },
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }),
  );
}
