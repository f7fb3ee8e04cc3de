import { describe, expect, it } from "vitest";
import { usePgliteDb } from "../helpers/pglite-db.js";

/** PGlite runs in a worker thread: its errors cross the thread with their Postgres fields. */
describe("a PGlite error from the worker thread", () => {
  const world = usePgliteDb("switchboard-pglite-error-", async (db) => {
    await db.exec("CREATE TABLE notes (id serial primary key, email text not null, CONSTRAINT notes_email_key UNIQUE (email))");
    await db.query("INSERT INTO notes (email) VALUES ($1)", ["a@example.org"]);
  });

  const failure = (run: () => Promise<unknown>) =>
    run().then(
      () => {
        throw new Error("expected the query to fail");
      },
      (error: unknown) => error as Error & Record<string, unknown>,
    );

  it("keeps the SQLSTATE, the constraint and the table of a unique violation", async () => {
    const error = await failure(() => world.db.query("INSERT INTO notes (email) VALUES ($1)", ["a@example.org"]));
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("23505");
    expect(error.constraint).toBe("notes_email_key");
    expect(error.table).toBe("notes");
    expect(error.message).toBe('duplicate key value violates unique constraint "notes_email_key"');
  });

  it("keeps the code of an error inside a transaction, and of exec", async () => {
    const inTransaction = await failure(() => world.db.transaction((tx) => tx.query("SELECT * FROM no_such_table")));
    expect(inTransaction.code).toBe("42P01");
    const inExec = await failure(() => world.db.exec("SELEC 1"));
    expect(inExec.code).toBe("42601");
    // The worker is still serving after errors.
    expect((await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM notes")).rows).toEqual([{ n: 1 }]);
  });
});
