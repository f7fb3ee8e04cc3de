import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { toWireError, type PgliteWorkerData, type WorkerReply, type WorkerRequest } from "./pglite-worker-messages.js";

/**
 * The PGlite worker thread: owns the one PGlite instance, so its WebAssembly Postgres runs beside
 * the server's event loop instead of on it. Requests come from `pglite-worker-db.ts` and are
 * handed to PGlite as they arrive; PGlite itself runs one at a time, and while a transaction is
 * open its queries go first and every other request waits (`PGlite.transaction` holds its mutex).
 */

if (!parentPort) throw new Error("pglite-worker.ts runs as a worker thread (new Worker), not as a script");
const port = parentPort;
const { dataDir, settings, wasmTierUp } = workerData as PgliteWorkerData;

// Before PGlite compiles its module (in `PGlite.create`): see `PgliteWorkerData.wasmTierUp`. Set
// either way: V8 flags are per process, and an earlier worker in this process may have set it.
setFlagsFromString(wasmTierUp ? "--no-liftoff-only" : "--liftoff-only");

/** Thrown inside `PGlite.transaction` to make it roll back. */
const ROLLBACK = Symbol("rollback");

interface OpenTransaction {
  tx: Transaction;
  /** Ends the lane: commit or roll back, answered to request `replyTo`. */
  end(commit: boolean, replyTo: number): void;
}

const transactions = new Map<number, OpenTransaction>();

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

function answer(id: number, work: Promise<unknown[] | undefined>): void {
  work.then(
    (rows) => reply(rows ? { id, rows } : { id }),
    (error: unknown) => reply({ id, error: toWireError(error) }),
  );
}

function begin(id: number, pg: PGlite): void {
  let opened = false;
  let endedBy = id;
  const done = pg.transaction(async (tx) => {
    const commit = await new Promise<boolean>((resolve) => {
      transactions.set(id, {
        tx,
        end(commit, replyTo) {
          endedBy = replyTo;
          resolve(commit);
        },
      });
      opened = true;
      reply({ id });
    });
    if (!commit) throw ROLLBACK;
  });
  done.then(
    () => reply({ id: endedBy }),
    (error: unknown) => {
      // A rollback asked for is a success; a BEGIN or COMMIT that failed is the asker's error.
      if (error === ROLLBACK) reply({ id: endedBy });
      else reply({ id: opened ? endedBy : id, error: toWireError(error) });
    },
  );
  void done.finally(() => transactions.delete(id)).catch(() => {});
}

/**
 * One full GC once PGlite has started. Its start leaves the module's bytes (9 MB, read from
 * `pglite.wasm`) and the start-up's garbage in this thread's old generation, and an idle worker
 * never collects it: measured 8 MiB less start-up RSS (after a full GC of the main thread, as
 * bench:peers takes it; PGlite on Liftoff, median of 4 starts 158.5 against 166.2 MiB, load 7). Node exposes no GC call without `--expose-gc`; the flag set
 * at run time makes a new context's global `gc` (what the `expose-gc` package does).
 */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

async function main(): Promise<void> {
  let pg: PGlite;
  try {
    const startParams = [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])];
    pg = await PGlite.create(dataDir, { startParams });
    collectGarbage();
  } catch (error) {
    reply({ id: 0, error: toWireError(error) });
    return;
  }
  port.on("message", (request: WorkerRequest) => {
    switch (request.op) {
      case "query": {
        if (request.tx === undefined) {
          answer(
            request.id,
            pg.query(request.sql, request.params).then((r) => r.rows),
          );
          break;
        }
        const open = transactions.get(request.tx);
        answer(request.id, open ? open.tx.query(request.sql, request.params).then((r) => r.rows) : Promise.reject(new Error("Transaction is closed")));
        break;
      }
      case "exec":
        answer(
          request.id,
          pg.exec(request.sql).then(() => undefined),
        );
        break;
      case "begin":
        begin(request.id, pg);
        break;
      case "commit":
      case "rollback": {
        const open = transactions.get(request.tx);
        // Already ended (its COMMIT failed, say): nothing left to roll back.
        if (!open) reply({ id: request.id });
        else open.end(request.op === "commit", request.id);
        break;
      }
      case "close":
        // PGlite's close waits for queued work, then shuts Postgres down and flushes the folder.
        answer(
          request.id,
          pg.close().then(() => undefined),
        );
        break;
    }
  });
  reply({ id: 0 });
}

void main();
