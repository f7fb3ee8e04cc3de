/**
 * What the main thread and the PGlite worker (`pglite-worker.ts`) say to each other. Internal to
 * the store: one `MessagePort`, structured clone, one reply per request (matched by `id`).
 */

/** Sent once to the worker as `workerData`. */
export interface PgliteWorkerData {
  /** A folder, or `memory://`. */
  dataDir: string;
  /** Postgres settings (`-c name=value` at start), on top of PGlite's own start parameters. */
  settings: Record<string, string>;
  /**
   * Let V8 tier PGlite's hot WebAssembly functions up to TurboFan. False keeps every function on
   * Liftoff, V8's baseline compiler (`--liftoff-only`, set in the worker before PGlite compiles;
   * V8 flags are per process, so any other WebAssembly the process compiles afterwards stays on
   * Liftoff too — the server runs none on its hot paths). Measured in bench:peers (embedded,
   * warmed up, 2 cores, load 3–7): start-up RSS after a full GC 164–168 MiB against 205–235 MiB;
   * no TurboFan compile burst (about 1.4 s of CPU) in the first seconds of traffic; CPU per message
   * at 3,000 msg/s within the noise (251–294 µs against 229–369 µs); 6,000 offered → 2,940 and
   * 4,972 delivered/s against 3,513 and 5,721 (PGlite's one thread saturates about 15 % sooner).
   */
  wasmTierUp: boolean;
}

export type WorkerRequest =
  | { id: number; op: "query"; sql: string; params: unknown[] | undefined; tx: number | undefined }
  | { id: number; op: "exec"; sql: string }
  /** Opens a transaction lane; its id is this request's id. Other requests wait until it ends. */
  | { id: number; op: "begin" }
  | { id: number; op: "commit" | "rollback"; tx: number }
  | { id: number; op: "close" };

/** `id` 0 is the worker's start-up report. */
export type WorkerReply = { id: number; rows?: unknown[] } | { id: number; error: WireError };

/**
 * An error as it crosses the thread boundary. Structured clone keeps an Error's message but drops
 * its own fields, and the store needs the Postgres ones (`code` `23505`, `constraint`, …): they are
 * copied as they are, exactly what the in-process driver's error carried (including the query's
 * `params`: the log serializer, `log/serialize-error.ts`, is what keeps those out of logs).
 */
export interface WireError {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

const NOT_FIELDS = new Set(["name", "message", "stack"]);

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (NOT_FIELDS.has(key) || typeof value === "function") continue;
    try {
      fields[key] = structuredClone(value);
    } catch {
      // Not cloneable (e.g. options holding functions): the caller never needed it.
    }
  }
  return { name: error.name, message: error.message, fields };
}

/** A database error raised in the PGlite worker, with the Postgres fields it had there. */
export class PgliteError extends Error {
  [field: string]: unknown;

  constructor(wire: WireError) {
    super(wire.message);
    Object.assign(this, wire.fields);
    // pg-protocol names its errors "error"; keep whatever the worker's error was called.
    this.name = wire.name;
  }
}
