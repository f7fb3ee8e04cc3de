import { promisify } from "node:util";
import { gunzip, gunzipSync, inflate, inflateSync, type ZlibOptions } from "node:zlib";
import { MAX_INPUT_BYTES, MAX_OUTPUT_BYTES } from "./limits.js";

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);

export class DecompressError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DecompressError";
  }
}

export interface DecompressLimits {
  /** @default MAX_INPUT_BYTES (10 MB) */
  maxInputBytes?: number;
  /** @default MAX_OUTPUT_BYTES (100 MB) */
  maxOutputBytes?: number;
  /**
   * Inflate inputs smaller than this on the calling thread: for small values the thread-pool
   * round trip costs more than the work. Only for batch tools (the migration CLI), never on
   * the online path, where the default 0 keeps every inflation off the event loop.
   * @default 0
   */
  inflateSyncBelowBytes?: number;
}

/**
 * Inflates a gzip or zlib value on the libuv thread pool (never blocking the event loop), with
 * zlib's own `maxOutputLength` cap: a bomb fails with ERR_BUFFER_TOO_LARGE after at most
 * `maxOutputBytes` were produced, instead of allocating its full size.
 */
export async function decompress(kind: "gzip" | "zlib", value: Buffer, limits: DecompressLimits = {}): Promise<Buffer> {
  const options = checkedOptions(value, limits);
  try {
    if (value.length < (limits.inflateSyncBelowBytes ?? 0)) return kind === "gzip" ? gunzipSync(value, options) : inflateSync(value, options);
    return await (kind === "gzip" ? gunzipAsync(value, options) : inflateAsync(value, options));
  } catch (error) {
    throw decompressError(kind, error);
  }
}

/**
 * The same, on the calling thread, for a value under `inflateSyncBelowBytes`; undefined for a
 * bigger one (inflate it with `decompress`). Lets a batch tool decode small values without a
 * promise per value.
 */
export function decompressSmall(kind: "gzip" | "zlib", value: Buffer, limits: DecompressLimits): Buffer | undefined {
  if (value.length >= (limits.inflateSyncBelowBytes ?? 0)) return undefined;
  const options = checkedOptions(value, limits);
  try {
    return kind === "gzip" ? gunzipSync(value, options) : inflateSync(value, options);
  } catch (error) {
    throw decompressError(kind, error);
  }
}

function checkedOptions(value: Buffer, limits: DecompressLimits): ZlibOptions {
  const maxInput = limits.maxInputBytes ?? MAX_INPUT_BYTES;
  if (value.length > maxInput) throw new DecompressError(`compressed value is ${value.length} bytes, over the ${maxInput}-byte input cap`);
  return { maxOutputLength: limits.maxOutputBytes ?? MAX_OUTPUT_BYTES };
}

function decompressError(kind: "gzip" | "zlib", error: unknown): DecompressError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === "ERR_BUFFER_TOO_LARGE" ? "inflates past the output cap" : "is corrupt or truncated";
  return new DecompressError(`${kind} value ${reason} (${code ?? "unknown error"})`, { cause: error });
}
