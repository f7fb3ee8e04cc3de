import { existsSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { unwrapEnvelope } from "../../server/src/cache/envelope.js";
import { CANARY_PATH, corpusOf, loadCorpus, loadCorpusInto, migrateCorpus, snapshot, ttlKept, useRedis, type Strategy } from "../helpers/corpus.js";

const redis = useRedis();

const MIGRATABLE = corpusOf("v1-json", "v1-double-json", "v1-gzip", "v1-zlib");
const PICKLES = corpusOf("v1-pickle", "v1-pickle-datetime");
const UNTOUCHED_WITHOUT_FLAGS = corpusOf("v2", "v1-pickle", "v1-pickle-datetime", "pickle-malicious", "unparseable", "bomb", "other-prefix");

describe.each<Strategy>(["bulk", "pipeline"])("cache:migrate on the corpus (%s)", (strategy) => {
  beforeEach(async (context) => {
    // The bomb costs ~0.5 s of inflating per run: loaded only where it is the subject.
    const withBomb = /touches nothing else|delete-unparseable/.test(context.task.name);
    await loadCorpusInto(
      redis.client,
      loadCorpus().filter((e) => withBomb || e.class !== "bomb"),
    );
  });

  it("migrates JSON-family and compressed values keeping the TTL, and touches nothing else", async () => {
    const before = await snapshot(redis.client);
    const report = await migrateCorpus(redis.client, strategy);
    const after = await snapshot(redis.client);
    expect(report).toMatchObject({ complete: true, migrated: MIGRATABLE.length, skipped: corpusOf("v2").length, deleted: 0 });
    expect(report.migratedFrom).toEqual({ "v1-json": 4, "v1-double-json": 2, "v1-gzip": 2, "v1-zlib": 6 });
    for (const entry of MIGRATABLE) {
      const stored = after.get(entry.key)!;
      expect(unwrapEnvelope(JSON.parse(stored.value!.toString())), entry.key).toEqual(entry.data);
      expect(ttlKept(before.get(entry.key)!, stored), `${entry.key} ${before.get(entry.key)!.expireAt} → ${stored.expireAt}`).toBe(true);
      if (entry.pttlMs === -1) expect(stored.pttl, entry.key).toBe(-1);
    }
    for (const entry of UNTOUCHED_WITHOUT_FLAGS) expect(after.get(entry.key)?.value, `${entry.key} ${entry.class}`).toEqual(entry.value);
    expect(report.pickleSkipped).toBe(PICKLES.length + corpusOf("pickle-malicious").length);
    expect(report.failed).toBe(corpusOf("unparseable", "bomb").length);
    expect(report.failedReasons).toEqual({ unparseable: corpusOf("unparseable", "bomb").length });
    expect(report.keys).toBe(loadCorpus().length - 1); // all but session:*
    expect(report.ttl["no-ttl"]).toBe(loadCorpus().filter((e) => e.pttlMs === -1 && e.key.startsWith("user:")).length);
    expect(report.topPrefixes).toEqual([{ prefix: "user:*", keys: report.keys }]);
  });

  it("with --allow-pickle migrates plain-data pickles (datetime as ISO 8601) and never the malicious ones", async () => {
    const before = await snapshot(redis.client);
    const report = await migrateCorpus(redis.client, strategy, { allowPickle: true });
    const after = await snapshot(redis.client);
    for (const entry of PICKLES) {
      expect(unwrapEnvelope(JSON.parse(after.get(entry.key)!.value!.toString())), `${entry.key} ${entry.note}`).toEqual(entry.data);
      expect(ttlKept(before.get(entry.key)!, after.get(entry.key)!), entry.key).toBe(true);
    }
    for (const entry of corpusOf("pickle-malicious")) expect(after.get(entry.key)?.value, entry.note).toEqual(entry.value);
    expect(report.migratedFrom["v1-pickle"]).toBe(PICKLES.length);
    expect(report.failedReasons["pickle-rejected"]).toBe(corpusOf("pickle-malicious").length);
    expect(existsSync(CANARY_PATH)).toBe(false);
  });

  it("only decodes pickles under an allowlisted prefix", async () => {
    const report = await migrateCorpus(redis.client, strategy, { allowPickle: true, picklePrefixes: ["admin:"] });
    expect(report.migratedFrom["v1-pickle"]).toBeUndefined();
    expect(report.pickleSkipped).toBe(PICKLES.length + corpusOf("pickle-malicious").length);
  });

  it("deletes unparseable values only with --delete-unparseable, and never a pickle", async () => {
    const report = await migrateCorpus(redis.client, strategy, { deleteUnparseable: true, allowPickle: true });
    const after = await snapshot(redis.client);
    for (const entry of corpusOf("unparseable", "bomb")) expect(after.has(entry.key), entry.note).toBe(false);
    for (const entry of corpusOf("pickle-malicious")) expect(after.get(entry.key)?.value).toEqual(entry.value);
    expect(report.deleted).toBe(corpusOf("unparseable", "bomb").length);
  });

  it("--dry-run decides everything and writes nothing", async () => {
    const values = async () => new Map([...(await snapshot(redis.client))].map(([key, { value }]) => [key, value]));
    const before = await values();
    const report = await migrateCorpus(redis.client, strategy, { dryRun: true, allowPickle: true, deleteUnparseable: true });
    expect(await values()).toEqual(before);
    expect(await redis.client.exists("switchboard:cache-migrate:{user:}:state")).toBe(0);
    expect(report).toMatchObject({ dryRun: true, migrated: MIGRATABLE.length + PICKLES.length, deleted: corpusOf("unparseable").length });
  });

  it("leaves other prefixes alone, and scans several prefixes when asked", async () => {
    const report = await migrateCorpus(redis.client, strategy, { prefixes: ["user:", "session:"] });
    const [session] = corpusOf("other-prefix");
    expect((await snapshot(redis.client)).get(session!.key)?.value).toEqual(session!.value); // {"sid"} has no id: kept
    expect(report.keys).toBe(loadCorpus().length - corpusOf("bomb").length);
    expect(report.topPrefixes.map((p) => p.prefix).sort()).toEqual(["session:*", "user:*"]);
  });
});
