import { Worker } from "node:worker_threads";
import type { Db } from "./db.js";
import { PgliteError, type PgliteWorkerData, type WorkerReply, type WorkerRequest } from "./pglite-worker-messages.js";

/** Distributive `Omit`, so each request kind keeps its own fields. */
type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, "id"> : never) : never;

interface Pending {
  resolve(rows: unknown[] | undefined): void;
  reject(error: Error): void;
}

export interface PgliteWorkerOptions extends PgliteWorkerData {
  onQuery?: () => void;
  /**
   * The worker stopped without `close()` (it crashed, ran out of memory, or was terminated). Every
   * pending and later call has already been rejected; the database is gone for this process.
   */
  onLost?: (error: Error) => void;
}

/**
 * The worker's JavaScript is PGlite's protocol code: short-lived buffers per query, a few MB live.
 * V8's default young generation grows to 16 MB of semi-space there, resident for good; 4 MB keeps
 * scavenges cheap and measured 6 MiB less start-up RSS (after a full GC, taken as bench:peers takes
 * it; embedded, PGlite on Liftoff, median of 4 starts 159.8 against 166.2 MiB, load 7).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4 };

/**
 * Starts the worker file beside this one: `pglite-worker.js` in `dist/`; from source (tsx,
 * vitest) `pglite-worker.ts`, through tsx's `tsImport`, since Node 20 cannot load TypeScript and
 * a worker's `--import tsx` does not reach its entry module. tsx is a dev dependency: only the
 * source runs need it.
 */
function startWorker(workerData: PgliteWorkerData): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./pglite-worker.js", import.meta.url), { workerData, resourceLimits: WORKER_LIMITS });
  const entry = new URL("./pglite-worker.ts", import.meta.url).href;
  const bootstrap = `
    const { createRequire } = require("node:module");
    const { pathToFileURL } = require("node:url");
    // The ESM build of tsx's API (its CommonJS build cannot load its own ESM half from an eval'd worker).
    const api = pathToFileURL(createRequire(${JSON.stringify(import.meta.url)}).resolve("tsx/esm/api")).href.replace(/.cjs$/, ".mjs");
    import(api).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}));`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits: WORKER_LIMITS });
}

/**
 * `Db` over PGlite running in a worker thread (`pglite-worker.ts`): PGlite's WebAssembly Postgres
 * took over half of the embedded server's busy time on its one event loop. Each call is one
 * message each way (rows come back by structured clone). The worker keeps the process alive only
 * while a call is pending or a transaction is open, as the in-process PGlite did (it held no handle).
 */
export class PgliteWorkerDb implements Db {
  readonly engine = "pglite" as const;
  /** The thread itself (tests terminate it to see a crash handled). */
  readonly thread: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #onQuery: (() => void) | undefined;
  #nextId = 1;
  #openTransactions = 0;
  /** Set once the worker is gone: every call fails with it. */
  #lost: Error | null = null;
  #closing = false;
  #closed: Promise<void> | undefined;
  #opened = false;

  private constructor(thread: Worker, options: PgliteWorkerOptions) {
    this.thread = thread;
    this.#onQuery = options.onQuery;
    thread.on("message", (reply: WorkerReply) => this.#settle(reply));
    let crash: Error | undefined;
    thread.on("error", (error) => {
      crash = error;
    });
    thread.on("exit", (code) => {
      const expected = this.#closing && this.#pending.size === 0;
      this.#lost = new Error(
        expected
          ? "The embedded database is closed"
          : `The embedded database (PGlite worker thread) stopped unexpectedly (exit code ${code}${crash ? `: ${crash.message}` : ""}); the call did not complete and its outcome is unknown`,
      );
      for (const pending of this.#pending.values()) pending.reject(this.#lost);
      this.#pending.clear();
      if (!expected && this.#opened) options.onLost?.(this.#lost);
    });
  }

  static async open(options: PgliteWorkerOptions): Promise<PgliteWorkerDb> {
    const thread = startWorker({ dataDir: options.dataDir, settings: options.settings, wasmTierUp: options.wasmTierUp });
    const db = new PgliteWorkerDb(thread, options);
    // The start-up report has id 0; a worker that dies first rejects it through the exit handler.
    const started = new Promise<unknown>((resolve, reject) => db.#pending.set(0, { resolve, reject }));
    try {
      await started;
    } catch (error) {
      db.#closing = true;
      await thread.terminate();
      throw error;
    }
    db.#opened = true;
    db.#updateRef();
    return db;
  }

  async query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }> {
    this.#onQuery?.();
    const rows = await this.#call({ op: "query", sql, params, tx: undefined });
    return { rows: rows as T[] };
  }

  async exec(sql: string): Promise<void> {
    await this.#call({ op: "exec", sql });
  }

  async transaction<T>(fn: (tx: Pick<Db, "query">) => Promise<T>): Promise<T> {
    // The lane's id is its BEGIN's request id.
    const tx = this.#nextId++;
    await this.#call({ op: "begin" }, tx);
    this.#openTransactions += 1;
    this.#updateRef();
    try {
      let result: T;
      try {
        result = await fn({
          query: async <R>(sql: string, params?: unknown[]) => {
            this.#onQuery?.();
            const rows = await this.#call({ op: "query", sql, params, tx });
            return { rows: rows as R[] };
          },
        });
      } catch (error) {
        await this.#call({ op: "rollback", tx }).catch(() => {});
        throw error;
      }
      await this.#call({ op: "commit", tx });
      return result;
    } finally {
      this.#openTransactions -= 1;
      this.#updateRef();
    }
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    if (this.#lost) return;
    this.#closing = true;
    const closed = this.#call({ op: "close" });
    // Calls after close() fail at once; the ones sent before it finish first (PGlite waits for them).
    this.#lost = new Error("The embedded database is closed");
    try {
      await closed;
    } finally {
      await this.thread.terminate();
    }
  }

  #call(request: Request, id = this.#nextId++): Promise<unknown[] | undefined> {
    if (this.#lost) return Promise.reject(this.#lost);
    const promise = new Promise<unknown[] | undefined>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.thread.postMessage({ ...request, id } as WorkerRequest);
    if (this.#pending.size === 1) this.#updateRef();
    return promise;
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if ("error" in reply) pending.reject(new PgliteError(reply.error));
    else pending.resolve(reply.rows);
    if (this.#pending.size === 0) this.#updateRef();
  }

  #updateRef(): void {
    if (this.#pending.size > 0 || this.#openTransactions > 0) this.thread.ref();
    else this.thread.unref();
  }
}
