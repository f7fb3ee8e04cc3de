import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../server/src/store/db.js";
import { MessageWriter, type WriteOutcome } from "../../server/src/store/message-writer.js";
import { migrate } from "../../server/src/store/migrations.js";
import { Store, type NewMessage } from "../../server/src/store/store.js";
import { seedPgliteDataDir } from "../helpers/pglite-template.js";

/**
 * On PGlite a batch has a large fixed cost, so a lane starts at most one batch per `gatherMs`:
 * writes arriving soon after a batch began share the next one; a quiet lane starts at once.
 */
describe("message writer gathers batches on PGlite", () => {
  let db: Db;
  let store: Store;
  let dataDir: string;
  let alice: number;
  let bob: number;
  const batches: Array<{ size: number; at: number }> = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-gather-"));
    await seedPgliteDataDir(dataDir);
    db = await openDb({ dataDir });
    await migrate(db);
    store = new Store(db);
    const user = (name: string) => store.createUser({ username: name, passwordHash: "-", displayName: name, email: `${name}@example.com` });
    [alice, bob] = (await Promise.all([user("alice"), user("bob")])).map((u) => u.id) as [number, number];
    // The real store, watched: every INSERT statement the writer sends, with its size and time.
    const insertMessages = store.insertMessages.bind(store);
    store.insertMessages = (inputs: readonly NewMessage[]) => {
      batches.push({ size: inputs.length, at: performance.now() });
      return insertMessages(inputs);
    };
  });
  afterAll(async () => {
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("writes spread over the interval share one batch; a quiet lane starts at once", async () => {
    const writer = new MessageWriter(store, { gatherMs: 300 });
    const send = (i: number) => writer.write({ from: alice, to: bob, body: `gather-${i}`, clientMsgId: `gather-${i}` });

    const quietStart = performance.now();
    await send(0);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.at - quietStart).toBeLessThan(300);

    // Five writes, 20 ms apart, right after that batch began: they wait for the interval's end together.
    const spread: Array<Promise<WriteOutcome>> = [];
    for (let i = 1; i <= 5; i++) {
      spread.push(send(i));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const outcomes = await Promise.all(spread);
    expect(outcomes.map((o) => o.kind)).toEqual(Array(5).fill("created"));
    expect(batches.map((b) => b.size)).toEqual([1, 5]);
    // (Timers fire on whole milliseconds: a few tenths early against performance.now() is the clock, not the gathering.)
    expect(batches[1]!.at - batches[0]!.at).toBeGreaterThanOrEqual(295);
    // Each got the recipient's unread count right after it (read in the same call as the INSERT).
    expect(outcomes.map((o) => (o as Extract<WriteOutcome, { kind: "created" }>).unread)).toEqual([2, 3, 4, 5, 6]);

    // Quiet again: the next write does not wait.
    await new Promise((resolve) => setTimeout(resolve, 350));
    const later = performance.now();
    await send(6);
    expect(batches).toHaveLength(3);
    expect(batches[2]!.at - later).toBeLessThan(300);
  });

  it("Postgres-style writer (gatherMs 0) starts a batch per idle lane at once", async () => {
    batches.length = 0;
    const writer = new MessageWriter(store, { gatherMs: 0 });
    for (let i = 0; i < 3; i++) await writer.write({ from: alice, to: bob, body: `now-${i}`, clientMsgId: `now-${i}` });
    expect(batches.map((b) => b.size)).toEqual([1, 1, 1]);
  });
});
