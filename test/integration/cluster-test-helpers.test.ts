import pg from "pg";
import { describe, expect, it } from "vitest";
import { startPostgres } from "../helpers/postgres.js";
import { startRedisCluster } from "../helpers/redis-cluster.js";

describe("multi-instance test helpers", () => {
  it("startPostgres starts a private Postgres on a free port and stops it", async () => {
    const postgres = await startPostgres();
    try {
      expect(postgres.port).not.toBe(5432);
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      const { rows } = await client.query<{ answer: number }>("select 41 + 1 as answer");
      expect(rows[0]?.answer).toBe(42);
      await client.end();
    } finally {
      await postgres.stop();
    }
    const client = new pg.Client({ connectionString: postgres.url, connectionTimeoutMillis: 2000 });
    await expect(client.connect()).rejects.toThrow();
  });

  it("startRedisCluster starts a 3-master cluster that spreads keys over all masters", async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    const client = cluster.client();
    try {
      for (let i = 0; i < 30; i++) await client.set(`k${i}`, String(i));
      expect(await client.get("k7")).toBe("7");
      const counts = await Promise.all(client.nodes("master").map((node) => node.dbsize()));
      expect(counts).toHaveLength(3);
      for (const count of counts) expect(count).toBeGreaterThan(0);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  });
});
