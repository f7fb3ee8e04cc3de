import { describe, expect, it } from "vitest";
import { usePgliteDb } from "../helpers/pglite-db.js";

describe("a PGlite transaction whose callback throws (worker thread)", () => {
  const world = usePgliteDb("switchboard-pglite-rollback-", async (db) => {
    await db.exec("CREATE TABLE items (id serial primary key, name text not null)");
  });

  it("rolls back, rethrows the callback's error, and a query sent meanwhile runs after the rollback", async () => {
    let outsideDone = false;
    let outside: Promise<{ rows: Array<{ n: number }> }> | undefined;
    const thrown = new Error("changed my mind");
    const result = world.db.transaction(async (tx) => {
      await tx.query("INSERT INTO items (name) VALUES ($1)", ["inside"]);
      outside = world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM items");
      void outside.then(() => (outsideDone = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Still inside the transaction: the other query waits for it.
      expect(outsideDone).toBe(false);
      expect((await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM items")).rows).toEqual([{ n: 1 }]);
      throw thrown;
    });
    await expect(result).rejects.toBe(thrown);
    expect((await outside!).rows).toEqual([{ n: 0 }]);
    expect((await world.db.query("SELECT * FROM items")).rows).toEqual([]);
  });

  it("commits when the callback returns, and gives back its value", async () => {
    const value = await world.db.transaction(async (tx) => {
      await tx.query("INSERT INTO items (name) VALUES ($1)", ["kept"]);
      return "done";
    });
    expect(value).toBe("done");
    expect((await world.db.query<{ name: string }>("SELECT name FROM items")).rows).toEqual([{ name: "kept" }]);
  });
});
