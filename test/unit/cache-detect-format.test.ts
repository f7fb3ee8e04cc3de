import { deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { detectLeadingFormat, isZlibHeader } from "../../server/src/cache/detect-format.js";

const bytes = (...values: number[]) => Buffer.from(values);

describe("detectLeadingFormat dispatches on leading bytes", () => {
  it("recognises the JSON family, with or without a UTF-8 BOM", () => {
    expect(detectLeadingFormat(Buffer.from('{"id":1}'))).toBe("json-object");
    expect(detectLeadingFormat(Buffer.from('"{\\"id\\":1}"'))).toBe("json-string");
    expect(detectLeadingFormat(Buffer.concat([bytes(0xef, 0xbb, 0xbf), Buffer.from('{"id":1}')]))).toBe("json-object");
    expect(detectLeadingFormat(Buffer.concat([bytes(0xef, 0xbb, 0xbf), bytes(0x1f, 0x8b)]))).toBe("unknown");
  });

  it("recognises gzip and every zlib level Python writes (RFC 1950 header check)", () => {
    expect(detectLeadingFormat(gzipSync("{}"))).toBe("gzip");
    for (const level of [1, 2, 6, 9]) expect(detectLeadingFormat(deflateSync("{}", { level })), `level ${level}`).toBe("zlib");
    expect([0x01, 0x5e, 0x9c, 0xda].every((flg) => isZlibHeader(0x78, flg))).toBe(true);
    expect(isZlibHeader(0x78, 0x00)).toBe(false); // (0x7800 % 31) ≠ 0
    expect(isZlibHeader(0x78, 0xbb)).toBe(false); // FDICT set
    expect(detectLeadingFormat(bytes(0x78))).toBe("unknown");
  });

  it("recognises pickles: PROTO 2-5, and protocol 0/1 shapes ending in STOP", () => {
    for (const protocol of [2, 3, 4, 5]) expect(detectLeadingFormat(bytes(0x80, protocol, 0x7d, 0x2e))).toBe("pickle");
    expect(detectLeadingFormat(bytes(0x80, 0x06, 0x2e))).toBe("unknown");
    expect(detectLeadingFormat(Buffer.from("(dp0\nVid\np1\nI1\ns."))).toBe("pickle");
    expect(detectLeadingFormat(Buffer.from("}q\x00(X\x02\x00\x00\x00idq\x01K\x01u.", "latin1"))).toBe("pickle");
    expect(detectLeadingFormat(Buffer.from("cbuiltins\neval\n(S'1'\ntR."))).toBe("pickle");
    expect(detectLeadingFormat(Buffer.from("(dp0\nVid\n"))).toBe("unknown"); // no STOP
  });

  it("calls everything else unknown, including empty and JSON that is not an object", () => {
    expect(detectLeadingFormat(Buffer.alloc(0))).toBe("unknown");
    expect(detectLeadingFormat(Buffer.from("[1, 2, 3]"))).toBe("unknown");
    expect(detectLeadingFormat(bytes(0xb1, 0x09, 0x3f))).toBe("unknown");
  });
});
