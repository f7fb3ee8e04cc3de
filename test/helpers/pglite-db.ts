import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { openDb, type Db } from "../../server/src/store/db.js";
import { seedPgliteDataDir } from "./pglite-template.js";

/**
 * A PGlite database (in its worker thread) in a fresh seeded folder for one test file: opened
 * before the tests with `setup` run on it, closed and removed after them. Read `.db` inside tests.
 */
export function usePgliteDb(folderPrefix: string, setup: (db: Db) => Promise<void>): { readonly db: Db } {
  let db: Db | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), folderPrefix));
    await seedPgliteDataDir(dataDir);
    db = await openDb({ dataDir });
    await setup(db);
  });
  afterAll(async () => {
    await db?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return {
    get db() {
      if (!db) throw new Error("the PGlite database is opened in beforeAll");
      return db;
    },
  };
}
