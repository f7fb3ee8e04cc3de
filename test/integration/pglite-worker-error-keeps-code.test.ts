import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../server/src/store/db.js";
import { seedPgliteDataDir } from "../helpers/pglite-template.js";

/** PGlite runs in a worker thread: its errors cross the thread with their Postgres fields. */
describe("a PGlite error from the worker thread", () => {
  let db: Db;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-pglite-error-"));
    await seedPgliteDataDir(dataDir);
    db = await openDb({ dataDir });
    await db.exec("CREATE TABLE notes (id serial primary key, email text not null, CONSTRAINT notes_email_key UNIQUE (email))");
    await db.query("INSERT INTO notes (email) VALUES ($1)", ["a@example.org"]);
  });
  afterAll(async () => {
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const failure = (run: () => Promise<unknown>) =>
    run().then(
      () => {
        throw new Error("expected the query to fail");
      },
      (error: unknown) => error as Error & Record<string, unknown>,
    );

  it("keeps the SQLSTATE, the constraint and the table of a unique violation", async () => {
    const error = await failure(() => db.query("INSERT INTO notes (email) VALUES ($1)", ["a@example.org"]));
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("23505");
    expect(error.constraint).toBe("notes_email_key");
    expect(error.table).toBe("notes");
    expect(error.message).toBe('duplicate key value violates unique constraint "notes_email_key"');
  });

  it("keeps the code of an error inside a transaction, and of exec", async () => {
    const inTransaction = await failure(() => db.transaction((tx) => tx.query("SELECT * FROM no_such_table")));
    expect(inTransaction.code).toBe("42P01");
    const inExec = await failure(() => db.exec("SELEC 1"));
    expect(inExec.code).toBe("42601");
    // The worker is still serving after errors.
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM notes")).rows).toEqual([{ n: 1 }]);
  });
});
