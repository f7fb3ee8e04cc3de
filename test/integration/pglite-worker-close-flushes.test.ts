import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../server/src/store/db.js";
import { seedPgliteDataDir } from "../helpers/pglite-template.js";

describe("closing the PGlite worker", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-pglite-close-"));
    await seedPgliteDataDir(dataDir);
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it("waits for the queries sent before it and flushes them: a reopened folder has every row", async () => {
    const db = await openDb({ dataDir });
    await db.exec("CREATE TABLE kept (id int primary key)");
    // Not awaited: close() is called while they are still queued in the worker.
    const inserts = Array.from({ length: 200 }, (_, i) => db.query("INSERT INTO kept (id) VALUES ($1)", [i]));
    await db.close();
    await Promise.all(inserts);
    await expect(db.query("SELECT 1")).rejects.toThrow(/closed/);

    const reopened = await openDb({ dataDir });
    try {
      expect((await reopened.query<{ n: number }>("SELECT count(*)::int AS n FROM kept")).rows).toEqual([{ n: 200 }]);
    } finally {
      await reopened.close();
    }
  });
});
