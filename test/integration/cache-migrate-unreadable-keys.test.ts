import { describe, expect, it } from "vitest";
import { MAX_INPUT_BYTES } from "../../server/src/cache/limits.js";
import { migrateCorpus, useRedis, type Strategy } from "../helpers/corpus.js";

const redis = useRedis();

describe.each<Strategy>(["bulk", "pipeline"])("keys the tool cannot read as a value (%s)", (strategy) => {
  it("a value over the read cap and a non-string key are reported and kept; the keys around them migrate", async () => {
    const big = Buffer.alloc(MAX_INPUT_BYTES + 1, 0x7b);
    await redis.client.set("user:1", big, "PX", 600_000);
    await redis.client.hset("user:2", "id", "2");
    await redis.client.set("user:3", JSON.stringify({ id: 3, username: "alice" }));
    await redis.client.set("user:4", "");
    const report = await migrateCorpus(redis.client, strategy);
    expect(report).toMatchObject({ keys: 4, migrated: 1, failed: 3, failedReasons: { oversize: 1, "non-string": 1, unparseable: 1 } });
    expect(report.formats).toEqual({ oversize: 1, "non-string": 1, "v1-json": 1, unknown: 1 });
    expect(report.size).toMatchObject({ ">10MB": 1, "0B": 1, "<256B": 1 });
    expect(report.ttl).toMatchObject({ "1m-10m": 1, "no-ttl": 3 });
    expect(await redis.client.strlen("user:1")).toBe(big.length);
    expect(await redis.client.type("user:2")).toBe("hash");
    expect(await redis.client.get("user:3")).toContain('"schema_version":"2"');
  });
});
