import { describe, expect, it } from "vitest";
import { usePgliteDb } from "../helpers/pglite-db.js";

/**
 * PGlite is one connection: while a transaction is open in the worker, queries from outside it
 * wait, and run in the order sent once it commits — none of them sees half a transaction.
 */
describe("concurrent queries during a PGlite transaction (worker thread)", () => {
  const world = usePgliteDb("switchboard-pglite-concurrent-", async (db) => {
    await db.exec("CREATE TABLE ledger (id serial primary key, account int not null, amount int not null)");
  });

  it("outside queries wait for the commit and see all of it; two transactions do not interleave", async () => {
    const order: string[] = [];
    const transfer = (label: string) =>
      world.db.transaction(async (tx) => {
        order.push(`${label} begin`);
        await tx.query("INSERT INTO ledger (account, amount) VALUES (1, -10)");
        await new Promise((resolve) => setTimeout(resolve, 50));
        await tx.query("INSERT INTO ledger (account, amount) VALUES (2, 10)");
        order.push(`${label} end`);
      });
    const first = transfer("a");
    // Sent while "a" is open: each sees either none or all of a transfer, so the sum stays 0.
    const reads = Array.from({ length: 20 }, (_, i) =>
      world.db.query<{ rows: number; total: number }>("SELECT count(*)::int AS rows, coalesce(sum(amount), 0)::int AS total FROM ledger").then((r) => {
        order.push(`read ${i}`);
        return r.rows[0]!;
      }),
    );
    const second = transfer("b");
    await Promise.all([first, second, ...reads]);
    for (const read of await Promise.all(reads)) {
      expect(read.total).toBe(0);
      expect(read.rows % 2).toBe(0);
    }
    // "b" began only after "a" ended.
    expect(order.indexOf("b begin")).toBeGreaterThan(order.indexOf("a end"));
    expect(order.indexOf("read 0")).toBeGreaterThan(order.indexOf("a end"));
    expect((await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ledger")).rows).toEqual([{ n: 4 }]);
  });
});
