import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { valueLogFields } from "../../server/src/cache/log-fields.js";

describe("valueLogFields: what a log line may say about a cache value", () => {
  it("gives the size, the first 64 bits of its SHA-256 in groups of four, and a masked preview", () => {
    const value = Buffer.from('{"id":7,"email":"alice@example.com","phone":"13812341234"}');
    const sha = createHash("sha256").update(value).digest("hex");
    const fields = valueLogFields(value);
    expect(fields.bytes).toBe(value.length);
    expect(fields.hash).toBe(`${sha.slice(0, 4)}-${sha.slice(4, 8)}-${sha.slice(8, 12)}-${sha.slice(12, 16)}`);
    expect(fields.preview).not.toContain("alice@");
    expect(fields.preview).not.toContain("13812341234");
  });
});
