import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../server/src/log/logger.js";
import { openDb, type Db } from "../../server/src/store/db.js";
import { migrate } from "../../server/src/store/migrations.js";
import { Store } from "../../server/src/store/store.js";
import { warmUpDatabase } from "../../server/src/store/warm-up.js";
import { usePgliteDb } from "../helpers/pglite-db.js";
import { seedPgliteDataDir } from "../helpers/pglite-template.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

/** Every row of the tables the warm-up writes to, and the users sequence (the warm-up's user never draws from it). */
async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  const rows = async (sql: string) => (await db.query(sql)).rows;
  return {
    users: await rows("SELECT * FROM users ORDER BY id"),
    messages: await rows("SELECT * FROM messages ORDER BY id"),
    unreadCounts: await rows("SELECT * FROM unread_counts ORDER BY user_id"),
    usersSequence: await rows("SELECT last_value, is_called FROM users_id_seq"),
  };
}

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines(): Array<Record<string, unknown>> } {
  let out = "";
  const capture = new PassThrough();
  capture.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return {
    logger: createLogger({ level: "info", destination: capture }),
    lines: () =>
      out
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("the database warm-up on an empty database (real PGlite)", () => {
  const world = usePgliteDb("switchboard-warm-up-empty-", async (db) => {
    await migrate(db);
  });

  it("runs, and leaves no user, message, unread counter or users-sequence step behind", async () => {
    const before = await snapshot(world.db);
    expect(before.users).toEqual([]);
    const { logger, lines } = captureLogger();

    const result = await warmUpDatabase(world.db, logger, 2);

    expect(result.ok).toBe(true);
    expect(await snapshot(world.db)).toEqual(before);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines().map((line) => line.msg)).toEqual(["database warmed up"]);
  });

  it("only skips message ids: 73 a round (sequences are not transactional), then real messages go on", async () => {
    const store = new Store(world.db);
    const alice = await store.createUser({ username: "warm-alice", passwordHash: "x", displayName: "A", email: "a@example.invalid" });
    const bob = await store.createUser({ username: "warm-bob", passwordHash: "x", displayName: "B", email: "b@example.invalid" });
    const sequence = async () =>
      (await world.db.query<{ last: number; called: boolean }>("SELECT last_value::int AS last, is_called AS called FROM messages_id_seq")).rows[0]!;
    const before = await sequence();

    await warmUpDatabase(world.db, captureLogger().logger, 1);

    const after = await sequence();
    expect(after.last - before.last + (before.called ? 0 : 1)).toBe(1 + 8 + 64);
    const { outcomes } = await store.insertMessages([{ from: alice.id, to: bob.id, body: "hi", clientMsgId: "c1" }]);
    expect(outcomes[0]).toMatchObject({ kind: "created", message: { id: after.last + 1 } });
    expect((await world.db.query("SELECT count(*)::int AS n FROM messages")).rows).toEqual([{ n: 1 }]);
  });
});

describe("the database warm-up on a database in use (real PGlite)", () => {
  const world = usePgliteDb("switchboard-warm-up-data-", async (db) => {
    await migrate(db);
    const store = new Store(db);
    const alice = await store.createUser({ username: "alice", passwordHash: "x", displayName: "Alice", email: "alice@example.invalid" });
    const bob = await store.createUser({ username: "bob", passwordHash: "x", displayName: "Bob", email: "bob@example.invalid" });
    await store.insertMessages([
      { from: alice.id, to: bob.id, body: "one", clientMsgId: "warm-up-0-1-0" },
      { from: bob.id, to: alice.id, body: "two", clientMsgId: "warm-up-0-8-0" },
    ]);
  });

  it("leaves every row as it was, even real messages using the warm-up's own clientMsgIds", async () => {
    const before = await snapshot(world.db);

    expect((await warmUpDatabase(world.db, captureLogger().logger)).ok).toBe(true);

    expect(await snapshot(world.db)).toEqual(before);
  });

  it("two warm-ups at once (two instances on one database) both finish and leave nothing", async () => {
    const before = await snapshot(world.db);
    const results = await Promise.all([warmUpDatabase(world.db, captureLogger().logger, 1), warmUpDatabase(world.db, captureLogger().logger, 1)]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(await snapshot(world.db)).toEqual(before);
  });
});

describe("a warm-up that fails", () => {
  let server: TestServer | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("logs a warning without its query's values, rolls back, and the server starts and serves", async () => {
    // A real failure: the send path's function is gone (as after a botched manual change).
    dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-warm-up-broken-"));
    await seedPgliteDataDir(dataDir);
    const setup = await openDb({ dataDir });
    await migrate(setup);
    await setup.exec("DROP FUNCTION insert_messages_counted(BIGINT[], BIGINT[], TEXT[], TEXT[])");
    await setup.close();

    const { logger, lines } = captureLogger();
    server = await startTestServer({ DATA_DIR: dataDir, SEED_DEMO_USERS: "false" }, { logger });

    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const warning = lines().find((line) => String(line.msg).startsWith("database warm-up failed"));
    expect(warning).toBeDefined();
    expect(warning!.level).toBe(40);
    expect(JSON.stringify(warning)).toContain("insert_messages_counted");
    // The statement's parameters (the warm-up user's id and name, its bodies) stay out of the log.
    expect(JSON.stringify(warning)).not.toMatch(/warm-up-[0-9a-f]{8}-|"params"/);
    // Rolled back: the temporary user is not there.
    expect((await server.server.db.query("SELECT count(*)::int AS n FROM users")).rows).toEqual([{ n: 0 }]);
  });
});
