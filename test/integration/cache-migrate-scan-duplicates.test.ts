import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { BulkKeyStore } from "../../server/src/cache-migrate/bulk-key-store.js";
import { runMigration } from "../../server/src/cache-migrate/migrator.js";
import { loadGeneratedUsers, useRedis } from "../helpers/corpus.js";

const redis = useRedis();

/** SCAN may return a key more than once (while the keyspace is resized): replay earlier keys. */
class RepeatingScanStore extends BulkKeyStore {
  readonly #seen: string[] = [];

  constructor(client: Redis) {
    super(client, { id: "repeating" });
  }

  override async scan(cursor: string, match: string, count: number) {
    const page = await super.scan(cursor, match, count);
    const repeated = this.#seen.slice(0, 5); // five keys of earlier pages, again
    this.#seen.push(...page.keys);
    return { cursor: page.cursor, keys: [...page.keys, ...page.keys.slice(0, 3), ...repeated] };
  }
}

describe("keys SCAN returns twice", () => {
  it("are written once; a repeat of a key this run migrated counts as a duplicate, not again", async () => {
    const { legacy } = await loadGeneratedUsers(redis.client, 500);
    const report = await runMigration({ stores: [new RepeatingScanStore(redis.client)], control: redis.client, scanCount: 50 });
    expect(report).toMatchObject({ migrated: legacy, conflicts: 0, failed: 0 });
    expect(report.duplicates).toBeGreaterThan(0);
    // A repeat of a key left as it was (here: already v2) is counted again, as SCAN returned it.
    expect(report.keys - report.skipped).toBe(legacy);
    const again = await runMigration({ stores: [new BulkKeyStore(redis.client)], control: redis.client });
    expect(again).toMatchObject({ keys: 500, migrated: 0, skipped: 500 });
  });
});
