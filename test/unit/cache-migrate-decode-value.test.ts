import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeMigrationValue } from "../../server/src/cache-migrate/decode-migration-value.js";
import { CANARY_PATH, corpusOf, corpusUserId } from "../helpers/corpus.js";

describe("the migration tool's decoder on the corpus pickles", () => {
  it("leaves pickles undecoded without the flag", async () => {
    for (const entry of corpusOf("v1-pickle", "v1-pickle-datetime", "pickle-malicious")) {
      const outcome = await decodeMigrationValue(entry.value, { expectedId: corpusUserId(entry) });
      expect(outcome, entry.key).toMatchObject({ kind: "not-decoded", format: "v1-pickle" });
    }
  });

  it("decodes plain-data pickles (protocols 0-5, datetime as ISO 8601) when allowed", async () => {
    const entries = corpusOf("v1-pickle", "v1-pickle-datetime");
    expect(new Set(entries.map((e) => e.note)).size).toBeGreaterThanOrEqual(6);
    for (const entry of entries) {
      const outcome = await decodeMigrationValue(entry.value, { expectedId: corpusUserId(entry), allowPickle: true });
      expect(outcome, `${entry.key} ${entry.note}`).toEqual({ kind: "data", format: "v1-pickle", data: entry.data });
    }
  });

  it("rejects malicious pickles without running them", async () => {
    for (const entry of corpusOf("pickle-malicious")) {
      const outcome = await decodeMigrationValue(entry.value, { expectedId: corpusUserId(entry), allowPickle: true });
      expect(outcome, entry.note).toMatchObject({ kind: "rejected", format: "v1-pickle" });
      expect((outcome as { reason: string }).reason).toMatch(/global (posix|builtins)\.(system|eval)/);
    }
    expect(existsSync(CANARY_PATH)).toBe(false);
  });

  it("decodes every other format as the online decoder does", async () => {
    for (const entry of corpusOf("v2", "v1-json", "v1-double-json", "v1-gzip", "v1-zlib", "unparseable")) {
      const outcome = await decodeMigrationValue(entry.value, { expectedId: corpusUserId(entry), allowPickle: true });
      if (entry.data) expect(outcome, entry.key).toMatchObject({ kind: "data", data: entry.data });
      else expect(outcome.kind, entry.key).toBe("invalid");
    }
  });
});
