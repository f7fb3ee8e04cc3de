import { decodeValue, decodeValueNow, recordOutcome, type DecodeOptions, type DecodeOutcome } from "../cache/decode-value.js";
import { detectLeadingFormat } from "../cache/detect-format.js";
import { decodePickle, PickleRejectedError } from "./pickle-walker.js";

/**
 * The migration tool's decoder: the online decoder for every format, plus pickles walked as
 * plain data when `allowPickle` (the operator's `--allow-pickle`, for an allowlisted prefix).
 * The pickle branch lives here, not in `server/src/cache/`, so the online path cannot reach the
 * walker at all (docs/cache.md#two-folders).
 */
export interface MigrationDecodeOptions extends DecodeOptions {
  /** Decode pickles as plain data (never executed). @default false */
  allowPickle?: boolean;
}

/** Like `decodeValueNow`: undefined only for a compressed value that must be inflated asynchronously. */
export function decodeMigrationValueNow(value: Buffer, options: MigrationDecodeOptions = {}): DecodeOutcome | undefined {
  if (options.allowPickle && detectLeadingFormat(value) === "pickle") return decodePickleValue(value, options.expectedId);
  return decodeValueNow(value, options);
}

export async function decodeMigrationValue(value: Buffer, options: MigrationDecodeOptions = {}): Promise<DecodeOutcome> {
  return decodeMigrationValueNow(value, options) ?? (await decodeValue(value, options));
}

function decodePickleValue(value: Buffer, expectedId: number | undefined): DecodeOutcome {
  let plain: unknown;
  try {
    plain = decodePickle(value);
  } catch (error) {
    const reason = error instanceof PickleRejectedError ? error.message : "pickle walk failed";
    return { kind: "rejected", format: "v1-pickle", reason };
  }
  // A pickle that is plain data but not a user object is rejected too: it is never migrated, not even as {}.
  const outcome = recordOutcome("v1-pickle", plain, expectedId);
  return outcome.kind === "invalid" ? { kind: "rejected", format: "v1-pickle", reason: outcome.reason } : outcome;
}
