import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { main } from "../../server/src/cache-migrate/cli.js";
import type { MigrationReport } from "../../server/src/cache-migrate/report.js";
import { UserCache } from "../../server/src/cache/user-cache.js";
import { corpusOf, corpusUserId, loadCorpus } from "../helpers/corpus.js";
import { startRedisCluster, type LocalRedisCluster } from "../helpers/redis-cluster.js";

let cluster: LocalRedisCluster;
let client: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  client = cluster.client();
  // The bomb is left out: it is covered on a standalone Redis and costs ~0.5 s per run.
  for (const entry of loadCorpus().filter((e) => e.class !== "bomb")) {
    if (entry.pttlMs > 0) await client.set(entry.key, entry.value, "PX", entry.pttlMs);
    else await client.set(entry.key, entry.value);
  }
});
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

async function runCli(args: string[]): Promise<MigrationReport> {
  let out = "";
  const stdout = { write: (chunk: string) => ((out += chunk), true) };
  const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",");
  expect(await main(["--cluster", seeds, "--json", "--no-progress", "--log-level", "silent", ...args], { stdout, stderr: process.stderr })).toBe(0);
  return JSON.parse(out) as MigrationReport;
}

describe("Redis Cluster", () => {
  it("the online cache reads and lazily rewrites through a cluster client", async () => {
    const cache = new UserCache({ redis: client, ttlSeconds: 3600, mode: "dual" });
    const [entry] = corpusOf("v1-gzip");
    expect(await cache.get(corpusUserId(entry!))).toEqual(entry!.data);
    expect(unwrapEnvelope(JSON.parse((await client.get(entry!.key))!))).toEqual(entry!.data);
  });

  it("cache:migrate --cluster scans every master and migrates each key once", async () => {
    const users = loadCorpus().filter((e) => e.key.startsWith("user:") && e.class !== "bomb");
    const report = await runCli(["--allow-pickle"]);
    expect(report.keys).toBe(users.length);
    expect(report.migrated).toBe(corpusOf("v1-json", "v1-double-json", "v1-gzip", "v1-zlib", "v1-pickle", "v1-pickle-datetime").length - 1); // one was rewritten online above
    for (const entry of corpusOf("v1-json", "v1-double-json", "v1-gzip", "v1-zlib", "v1-pickle", "v1-pickle-datetime")) {
      expect(unwrapEnvelope(JSON.parse((await client.get(entry.key))!)), entry.key).toEqual(entry.data);
    }
    for (const entry of corpusOf("pickle-malicious", "unparseable")) expect(await client.getBuffer(entry.key)).toEqual(entry.value);
    const again = await runCli(["--allow-pickle"]);
    expect(again).toMatchObject({ migrated: 0, keys: users.length });
  });
});
