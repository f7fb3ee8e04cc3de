import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../server/src/store/db.js";
import { MessageWriter, type WriteOutcome } from "../../server/src/store/message-writer.js";
import { migrate } from "../../server/src/store/migrations.js";
import { Store } from "../../server/src/store/store.js";
import { seedPgliteDataDir } from "../helpers/pglite-template.js";
import { startPostgres, type LocalPostgres } from "../helpers/postgres.js";

/** The write-coalescing send path on both engines: many sends in one statement, each judged on its own. */
describe.each(["pglite", "postgres"] as const)("message writer batches (%s)", (engine) => {
  let db: Db;
  let store: Store;
  let postgres: LocalPostgres | undefined;
  let dataDir: string | undefined;
  let alice: number;
  let bob: number;
  let carol: number;

  beforeAll(async () => {
    if (engine === "postgres") {
      postgres = await startPostgres();
      db = await openDb({ databaseUrl: postgres.url });
    } else {
      dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-writer-"));
      await seedPgliteDataDir(dataDir);
      db = await openDb({ dataDir });
    }
    await migrate(db);
    store = new Store(db);
    const user = (name: string) => store.createUser({ username: name, passwordHash: "-", displayName: name, email: `${name}@example.com` });
    [alice, bob, carol] = (await Promise.all([user("alice"), user("bob"), user("carol")])).map((u) => u.id) as [number, number, number];
  });
  afterAll(async () => {
    await db?.close();
    await postgres?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const rows = async (sql: string, params: unknown[]) => (await db.query<Record<string, unknown>>(sql, params)).rows;

  it("writes issued together share one batch; each sender's messages get increasing ids in the order written", async () => {
    const writer = new MessageWriter(store, { lanes: 1 });
    const writes = Array.from({ length: 30 }, (_, i) => writer.write({ from: i % 2 ? alice : carol, to: bob, body: `order-${i}`, clientMsgId: `order-${i}` }));
    const outcomes = await Promise.all(writes);
    expect(outcomes.every((o) => o.kind === "created")).toBe(true);
    const ids = outcomes.map((o) => (o as Extract<WriteOutcome, { kind: "created" }>).message.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    // Unread counts after each of bob's messages: consecutive, ending at the stored count.
    const unread = outcomes.map((o) => (o as Extract<WriteOutcome, { kind: "created" }>).unread);
    const total = await store.unreadCount(bob);
    expect(unread).toEqual(Array.from({ length: 30 }, (_, i) => total - 29 + i));
  });

  it("a clientMsgId used before, or twice in the batch, returns the first message; no second row", async () => {
    const writer = new MessageWriter(store, { lanes: 1 });
    const first = await writer.write({ from: alice, to: bob, body: "once", clientMsgId: "dup-1" });
    expect(first.kind).toBe("created");
    const [again, fresh, freshAgain, noKey] = await Promise.all([
      writer.write({ from: alice, to: bob, body: "once (retry)", clientMsgId: "dup-1" }),
      writer.write({ from: alice, to: bob, body: "new", clientMsgId: "dup-2" }),
      writer.write({ from: alice, to: bob, body: "new (retry in the same batch)", clientMsgId: "dup-2" }),
      writer.write({ from: alice, to: bob, body: "no key", clientMsgId: null }),
    ]);
    expect(again).toEqual({ kind: "duplicate", message: (first as Extract<WriteOutcome, { kind: "created" }>).message });
    expect(fresh.kind).toBe("created");
    expect(freshAgain).toEqual({ kind: "duplicate", message: (fresh as Extract<WriteOutcome, { kind: "created" }>).message });
    expect(noKey).toMatchObject({ kind: "created", message: { body: "no key", clientMsgId: null } });
    // The same key from another sender is another message.
    expect((await writer.write({ from: carol, to: bob, body: "carol's", clientMsgId: "dup-1" })).kind).toBe("created");
    expect(await rows("SELECT body FROM messages WHERE sender_id = $1 AND client_msg_id IN ('dup-1', 'dup-2') ORDER BY id", [alice])).toEqual([
      { body: "once" },
      { body: "new" },
    ]);
  });

  it("bodies and keys travel through the array parameters unchanged (quotes, braces, commas, backslashes, NULL)", async () => {
    const writer = new MessageWriter(store, { lanes: 1 });
    const bodies = ["NULL", 'say "hi", {then} \\ leave', "", "ünïcödé 😀", "a,b", " padded "];
    const outcomes = await Promise.all(bodies.map((body, i) => writer.write({ from: alice, to: carol, body, clientMsgId: i === 0 ? "NULL" : `odd-${i}` })));
    expect(outcomes.map((o) => (o.kind === "created" ? [o.message.body, o.message.clientMsgId] : o.kind))).toEqual(
      bodies.map((body, i) => [body, i === 0 ? "NULL" : `odd-${i}`]),
    );
  });

  it("an unknown recipient fails that send alone", async () => {
    const writer = new MessageWriter(store, { lanes: 1 });
    const outcomes = await Promise.all([
      writer.write({ from: alice, to: bob, body: "before", clientMsgId: "nf-1" }),
      writer.write({ from: alice, to: 987_654_321, body: "nobody", clientMsgId: "nf-2" }),
      writer.write({ from: alice, to: bob, body: "after", clientMsgId: "nf-3" }),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(["created", "recipientNotFound", "created"]);
  });

  it("a message the database rejects fails alone; the rest of its batch (other senders too) is stored in order", async () => {
    const writer = new MessageWriter(store, { lanes: 1 });
    const settled = await Promise.allSettled([
      writer.write({ from: alice, to: bob, body: "ok-1", clientMsgId: "poison-1" }),
      writer.write({ from: carol, to: bob, body: "carol ok", clientMsgId: "poison-c" }),
      writer.write({ from: alice, to: bob, body: "nul \u0000 byte", clientMsgId: "poison-2" }), // Postgres text cannot hold NUL
      writer.write({ from: alice, to: bob, body: "ok-3", clientMsgId: "poison-3" }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const stored = await rows("SELECT body FROM messages WHERE sender_id = $1 AND client_msg_id LIKE 'poison-%' ORDER BY id", [alice]);
    expect(stored).toEqual([{ body: "ok-1" }, { body: "ok-3" }]);
  });

  it("the unread counters follow inserts and reads (triggers), equal to counting the rows", async () => {
    const writer = new MessageWriter(store);
    await Promise.all(Array.from({ length: 12 }, (_, i) => writer.write({ from: i % 2 ? alice : carol, to: bob, body: `c${i}`, clientMsgId: `count-${i}` })));
    const counted = async () => Number((await rows("SELECT count(*)::int AS n FROM messages WHERE recipient_id = $1 AND read_at IS NULL", [bob]))[0]!.n);
    expect(await store.unreadCount(bob)).toBe(await counted());
    const last = Number((await rows("SELECT max(id) AS id FROM messages WHERE recipient_id = $1 AND sender_id = $2", [bob, alice]))[0]!.id);
    expect(await store.markRead(bob, alice, last)).toBeGreaterThan(0);
    expect(await store.unreadCount(bob)).toBe(await counted());
    expect(await store.markRead(bob, alice, last)).toBe(0); // nothing left to read: unchanged
    expect(await store.unreadCount(bob)).toBe(await counted());
    expect(await store.unreadCount(alice)).toBe(0);
  });

  it("each send reports its recipient's unread count right after it, exact while batches of several lanes run at once", async () => {
    const dave = (await store.createUser({ username: "dave", passwordHash: "-", displayName: "dave", email: "dave@example.com" })).id;
    const writer = new MessageWriter(store, { lanes: 4 });
    const senders = [alice, bob, carol];
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => writer.write({ from: senders[i % 3]!, to: dave, body: `lanes-${i}`, clientMsgId: `lanes-${i}` })),
    );
    const created = outcomes.map((o) => o as Extract<WriteOutcome, { kind: "created" }>);
    // The counts are exactly 1, 2, …, 60: no two batches read the same count, none is skipped.
    // (Ids are drawn before the counter's lock decides which lane's batch counts first, so across
    // lanes — other senders — the counts need not follow the ids; a sender's own do.)
    expect(created.map((o) => o.unread).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const sender of senders) {
      const own = created.filter((o) => o.message.from === sender).sort((x, y) => x.message.id - y.message.id);
      expect(own.map((o) => o.unread)).toEqual(own.map((o) => o.unread).sort((x, y) => x! - y!));
    }
    expect(await store.unreadCount(dave)).toBe(60);
  });
});
