import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../server/src/store/db.js";
import { migrate } from "../../server/src/store/migrations.js";
import { startPostgres, type LocalPostgres } from "../helpers/postgres.js";

const INSERT = "SELECT * FROM insert_messages_counted($1::bigint[], $2::bigint[], $3::text[], $4::text[])";

/**
 * A send batch is one call of `insert_messages_counted` (a plpgsql function): its plans are cached
 * per connection, made while the tables were small — a new database. None of them may scan a whole
 * table, or a batch's cost grows with `messages` and `users` (it did: a sequential scan of
 * `messages` per batch, and one of `users`).
 */
describe("the send batch's plans on Postgres", () => {
  let postgres: LocalPostgres;
  let db: Db;
  let client: pg.Client;
  const plans: string[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
    db = await openDb({ databaseUrl: postgres.url });
    await migrate(db);
    await db.query(
      "INSERT INTO users (username, password_hash, display_name, email) SELECT 'u' || g, 'x', 'U', 'u' || g || '@example.invalid' FROM generate_series(1, 200) AS g",
    );
    client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    client.on("notice", (notice) => plans.push(notice.message ?? ""));
    for (const setting of [
      "LOAD 'auto_explain'",
      "SET auto_explain.log_min_duration = 0",
      "SET auto_explain.log_nested_statements = on",
      "SET auto_explain.log_level = notice",
      "SET client_min_messages = notice",
    ])
      await client.query(setting);
  });
  afterAll(async () => {
    await client?.end();
    await db?.close();
    await postgres?.stop();
  });

  it("uses an index for every lookup, before and after the tables grow, and counts right", async () => {
    const batch = (round: number) => [
      [1, 2, 3],
      [2, 3, 4],
      ["a", "b", "c"],
      [`a${round}`, `b${round}`, `c${round}`],
    ];
    // Past plpgsql's five custom plans, so the cached generic plans are the ones running.
    for (let round = 1; round <= 8; round++) {
      const { rows } = await client.query<{ recipient_id: string; unread: string }>(INSERT, batch(round));
      expect(rows.map((r) => [Number(r.recipient_id), Number(r.unread)])).toEqual([
        [2, round],
        [3, round],
        [4, round],
      ]);
    }
    await db.query("INSERT INTO messages (sender_id, recipient_id, body) SELECT 1 + g % 200, 1 + (g + 1) % 200, 'x' FROM generate_series(1, 20000) AS g");
    await client.query(INSERT, batch(9));
    const scans = plans.filter((plan) => /Seq Scan on (messages|users|unread_counts)/.test(plan));
    expect(plans.length).toBeGreaterThan(8); // auto_explain saw the function's statements
    expect(scans).toEqual([]);
  });
});
