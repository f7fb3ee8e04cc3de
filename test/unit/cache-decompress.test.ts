import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decompress, DecompressError } from "../../server/src/cache/decompress.js";
import { corpusOf } from "../helpers/corpus.js";

const MiB = 1024 * 1024;

describe("capped decompression", () => {
  it("refuses the corpus gzip bomb (200 MiB inflated) at the 100 MB cap, without allocating 200 MiB", async () => {
    const [bomb] = corpusOf("bomb");
    global.gc?.();
    const base = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.rss - base.rss, now.arrayBuffers - base.arrayBuffers);
    }, 2);
    const failure = await decompress("gzip", bomb!.value).catch((error: unknown) => error);
    clearInterval(sampler);
    expect(failure).toBeInstanceOf(DecompressError);
    expect((failure as Error).message).toMatch(/output cap/);
    expect(peak).toBeLessThan(180 * MiB); // the cap is 100 MB; the whole bomb would be 200 MiB
  });

  it("refuses input over the 10 MB cap before inflating anything", async () => {
    const failure = await decompress("zlib", Buffer.alloc(10 * MiB + 1)).catch((error: unknown) => error);
    expect((failure as Error).message).toMatch(/input cap/);
  });

  it("may inflate small inputs on the calling thread (the CLI), with the same caps", async () => {
    const small = gzipSync('{"id":1}');
    expect((await decompress("gzip", small, { inflateSyncBelowBytes: 1024 })).toString()).toBe('{"id":1}');
    const zeros = gzipSync(Buffer.alloc(4 * MiB)); // ~4 KB in, 4 MiB out
    expect(zeros.length).toBeLessThan(16 * 1024);
    await expect(decompress("gzip", zeros, { inflateSyncBelowBytes: 16 * 1024, maxOutputBytes: MiB })).rejects.toThrow(/output cap/);
    await expect(decompress("gzip", small.subarray(0, 12), { inflateSyncBelowBytes: 1024 })).rejects.toThrow(/corrupt or truncated/);
  });

  it("inflates ordinary values and reports corrupt ones", async () => {
    expect((await decompress("gzip", gzipSync('{"id":1}'))).toString()).toBe('{"id":1}');
    await expect(decompress("gzip", gzipSync('{"id":1}').subarray(0, 12))).rejects.toThrow(/corrupt or truncated/);
    await expect(decompress("gzip", gzipSync("x".repeat(2000)), { maxOutputBytes: 1000 })).rejects.toThrow(/output cap/);
  });
});
