import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../server/src/store/db.js";
import type { PgliteWorkerDb } from "../../server/src/store/pglite-worker-db.js";
import { seedPgliteDataDir } from "../helpers/pglite-template.js";

describe("the PGlite worker thread dies", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-pglite-crash-"));
    await seedPgliteDataDir(dataDir);
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it("rejects the pending calls and every later one with a clear error, and reports it once", async () => {
    const lost: Error[] = [];
    const db = await openDb({ dataDir, onLost: (error) => lost.push(error) });
    const slow = db.query("SELECT pg_sleep(10)");
    const inTransaction = db.transaction(async (tx) => tx.query("SELECT 1"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    // As if the thread crashed or ran out of memory: it ends without close().
    await (db as PgliteWorkerDb).thread.terminate();

    await expect(slow).rejects.toThrow(/embedded database \(PGlite worker thread\) stopped unexpectedly/);
    await expect(inTransaction).rejects.toThrow(/stopped unexpectedly/);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(db.query("SELECT 1")).rejects.toThrow(/stopped unexpectedly/);
    await expect(db.transaction(async () => 1)).rejects.toThrow(/stopped unexpectedly/);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.message).toMatch(/outcome is unknown/);
    await db.close(); // nothing left to close: resolves
  });
});
