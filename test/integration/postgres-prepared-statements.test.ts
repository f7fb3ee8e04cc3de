import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../server/src/store/db.js";
import { startPostgres, type LocalPostgres } from "../helpers/postgres.js";

/** Queries on Postgres are named prepared statements; a schema change by another instance must not break them. */
describe("prepared statements on Postgres", () => {
  let postgres: LocalPostgres;
  let db: Db;
  let other: Db;

  beforeAll(async () => {
    postgres = await startPostgres();
    db = await openDb({ databaseUrl: postgres.url });
    other = await openDb({ databaseUrl: postgres.url });
    await db.exec("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT NOT NULL)");
  });
  afterAll(async () => {
    await db?.close();
    await other?.close();
    await postgres?.stop();
  });

  it("are prepared once per connection and reused", async () => {
    await db.query("INSERT INTO notes (id, body) VALUES ($1, $2)", [1, "one"]);
    for (let i = 0; i < 5; i++) expect((await db.query("SELECT * FROM notes WHERE id = $1", [1])).rows).toEqual([{ id: 1, body: "one" }]);
    // Calls one after another run on the pool's one idle connection, so this sees its statements.
    const { rows } = await db.query<{ name: string }>("SELECT name FROM pg_prepared_statements WHERE statement = $1", ["SELECT * FROM notes WHERE id = $1"]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.name).toMatch(/^sb\d+$/);
  });

  it("keep their connections past pg's default idle timeout, so a burst after a quiet spell finds warm backends", { timeout: 20_000 }, async () => {
    // Several queries at once open several pooled connections; each says which backend it is.
    const backends = async () =>
      new Set(
        (await Promise.all(Array.from({ length: 4 }, () => db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)")))).map(
          (r) => r.rows[0]!.pid,
        ),
      );
    const before = await backends();
    expect(before.size).toBeGreaterThan(1);
    await new Promise((resolve) => setTimeout(resolve, 10_500)); // pg's pool closes idle connections after 10 s by default
    const { rows } = await other.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])", [[...before]]);
    expect(rows.map((r) => r.pid).sort()).toEqual([...before].sort());
    expect(await backends()).toEqual(before);
  });

  it("a table changed by another instance (a rolling deploy's migration): the next call answers with the new shape", async () => {
    await db.query("SELECT * FROM notes WHERE id = $1", [1]);
    await other.exec("ALTER TABLE notes ADD COLUMN tag TEXT NOT NULL DEFAULT 'x'");
    // Every pooled connection that prepared the statement would fail with `cached plan must not change result type`.
    for (let i = 0; i < 12; i++) expect((await db.query("SELECT * FROM notes WHERE id = $1", [1])).rows).toEqual([{ id: 1, body: "one", tag: "x" }]);
  });
});
