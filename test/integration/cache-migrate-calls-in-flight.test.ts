import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { decodeValue } from "../../server/src/cache/decode-value.js";
import { BulkKeyStore } from "../../server/src/cache-migrate/bulk-key-store.js";
import { runMigration } from "../../server/src/cache-migrate/migrator.js";
import type { ReadResult } from "../../server/src/cache-migrate/key-store.js";
import { loadGeneratedUsers, migrateCorpus, snapshot, useRedis } from "../helpers/corpus.js";

const redis = useRedis();
const JOURNAL = "switchboard:cache-migrate:{user:}:journal";

/** Counts the reads in flight at once and the byte budget each was given. */
class CountingStore extends BulkKeyStore {
  inFlight = 0;
  maxInFlight = 0;
  readonly budgets = new Set<number>();

  constructor(client: Redis) {
    super(client, { id: "counting" });
  }

  override async read(keys: string[], budgetBytes: number, maxValueBytes: number): Promise<ReadResult> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.budgets.add(budgetBytes);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2)); // let the others start
      return await super.read(keys, budgetBytes, maxValueBytes);
    } finally {
      this.inFlight -= 1;
    }
  }
}

async function everyValueIsV2(): Promise<void> {
  for (const [key, { value }] of await snapshot(redis.client)) {
    const outcome = await decodeValue(value!);
    if (outcome.kind !== "data" || outcome.format !== "v2") throw new Error(`${key} is ${outcome.format}`);
  }
}

describe("several Redis calls in flight", () => {
  it("never more than callsInFlight at once, sharing the batch byte bound between them", async () => {
    const { legacy } = await loadGeneratedUsers(redis.client, 2000);
    const store = new CountingStore(redis.client);
    const report = await runMigration({ stores: [store], control: redis.client, callsInFlight: 3, keysPerCall: 40, batchBytes: 300_000 });
    expect(report).toMatchObject({ complete: true, keys: 2000, migrated: legacy, failed: 0, conflicts: 0 });
    expect(store.maxInFlight).toBe(3);
    expect([...store.budgets]).toEqual([100_000]);
  });

  it("a crash in one call while others are writing resumes without re-migrating or double counting", async () => {
    const counts = await loadGeneratedUsers(redis.client, 6000);
    let calls = 0;
    const crash = migrateCorpus(redis.client, "bulk", {
      scanCount: 1000,
      keysPerCall: 50,
      callsInFlight: 4,
      afterWrite: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1)); // other calls' writes land meanwhile
        if (++calls === 30) throw new Error("simulated crash between the writes and the checkpoint");
      },
    });
    await expect(crash).rejects.toThrow(/simulated crash/);
    // Calls after the crashed one settled (their writes are journaled), the page is not committed.
    expect(await redis.client.llen(JOURNAL)).toBeGreaterThan(1);
    const report = await migrateCorpus(redis.client, "bulk", { scanCount: 1000, keysPerCall: 50, callsInFlight: 4 });
    expect(report).toMatchObject({
      resumed: true,
      complete: true,
      keys: 6000,
      migrated: counts.legacy,
      skipped: counts.v2,
      duplicates: 0,
      failed: 0,
      deleted: 0,
    });
    expect(Object.values(report.migratedFrom).reduce((a, b) => a + b, 0)).toBe(counts.legacy);
    await everyValueIsV2();
    const again = await migrateCorpus(redis.client, "bulk", { callsInFlight: 4 });
    expect(again).toMatchObject({ keys: 6000, migrated: 0, skipped: 6000 });
  });

  it("with a cluster-style store (journal written apart from the compare-and-set), a crash in the first page resumes the same way", async () => {
    const counts = await loadGeneratedUsers(redis.client, 3000);
    let calls = 0;
    const crash = migrateCorpus(redis.client, "pipeline", {
      scanCount: 1000,
      keysPerCall: 50,
      callsInFlight: 4,
      afterWrite: () => {
        if (++calls === 15) throw new Error("simulated crash");
      },
    });
    await expect(crash).rejects.toThrow(/simulated crash/);
    const report = await migrateCorpus(redis.client, "pipeline", { scanCount: 1000, keysPerCall: 50, callsInFlight: 4 });
    expect(report).toMatchObject({ resumed: true, complete: true, keys: 3000, migrated: counts.legacy, skipped: counts.v2, duplicates: 0, failed: 0 });
    await everyValueIsV2();
  });
});
