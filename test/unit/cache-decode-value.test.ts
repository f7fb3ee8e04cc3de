import { describe, expect, it } from "vitest";
import { decodeValue } from "../../server/src/cache/decode-value.js";
import { corpusOf, corpusUserId, loadCorpus } from "../helpers/corpus.js";

const V1_READABLE = { "v1-json": "v1-json", "v1-double-json": "v1-double-json", "v1-gzip": "v1-gzip", "v1-zlib": "v1-zlib" } as const;

describe("decodeValue on the shared corpus", () => {
  it("reads v2 and every JSON-family / compressed v1 value to the expected user object", async () => {
    for (const entry of corpusOf("v2", "v1-json", "v1-double-json", "v1-gzip", "v1-zlib")) {
      const outcome = await decodeValue(entry.value, { expectedId: corpusUserId(entry) });
      expect(outcome, entry.key).toMatchObject({ kind: "data", format: entry.class === "v2" ? "v2" : V1_READABLE[entry.class as keyof typeof V1_READABLE] });
      expect((outcome as { data: unknown }).data, entry.key).toEqual(entry.data);
      if (entry.class !== "v2") expect(JSON.parse(String((outcome as { json: Buffer }).json)), entry.key).toEqual(entry.data);
    }
  });

  it("never parses a pickle (the online path has no pickle decoder)", async () => {
    for (const entry of corpusOf("v1-pickle", "v1-pickle-datetime", "pickle-malicious")) {
      const outcome = await decodeValue(entry.value, { expectedId: corpusUserId(entry) });
      expect(outcome, entry.key).toMatchObject({ kind: "not-decoded", format: "v1-pickle" });
    }
  });

  it("reports unparseable values and the gzip bomb as invalid", async () => {
    for (const entry of corpusOf("unparseable", "bomb")) {
      const outcome = await decodeValue(entry.value, { expectedId: corpusUserId(entry) });
      expect(outcome.kind, `${entry.key} ${entry.note}`).toBe("invalid");
    }
    const [bomb] = corpusOf("bomb");
    expect(await decodeValue(bomb!.value)).toMatchObject({ format: "v1-gzip", reason: expect.stringMatching(/output cap/) });
  });

  it("refuses a record whose id is not the key's", async () => {
    const [entry] = corpusOf("v1-json");
    expect(await decodeValue(entry!.value, { expectedId: 1 })).toMatchObject({ kind: "invalid", reason: expect.stringMatching(/another user id/) });
  });

  it("covers every class of the corpus", () => {
    expect(new Set(loadCorpus().map((e) => e.class)).size).toBe(11);
  });
});
