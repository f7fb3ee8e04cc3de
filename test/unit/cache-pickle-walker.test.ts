import { describe, expect, it } from "vitest";
import { decodePickle, PickleRejectedError } from "../../server/src/cache-migrate/pickle-walker.js";

// Made with Python 3.11 `pickle.dumps(value, protocol)`; the value is in each comment.
const hex = (text: string) => Buffer.from(text, "hex");
const PICKLES = {
  // {"id": 7, "tags": ["a", "b"], "pair": (1, 2.5), "none": None, "ok": True, "no": False, "big": 2**40, "neg": -5, "nested": {"k": "vé中"}}, protocol 2
  plainP2: hex(
    "80027d7100285802000000696471014b0758040000007461677371025d710328580100000061710458010000006271056558040000007061697271064b0147400400000000000086710758040000006e6f6e6571084e58020000006f6b71098858020000006e6f710a895803000000626967710b8a0600000000000158030000006e6567710c4afbffffff58060000006e6573746564710d7d710e58010000006b710f580600000076c3a9e4b8ad711073752e",
  ),
  // {"id": 7, "s": "it's\n", "f": 1.25, "l": [1, 2], "t": True}, protocol 0
  plainP0: hex(
    "286470300a5669640a70310a49370a7356730a70320a56697427735c75303030610a70330a7356660a70340a46312e32350a73566c0a70350a286c70360a49310a6149320a617356740a70370a4930310a732e",
  ),
  // {"id": 1, "s": {3}, "fs": frozenset([4])}, protocol 4
  setsP4: hex("80049520000000000000007d94288c026964944b018c0173948f94284b03908c02667394284b049194752e"),
  // {"id": 1, "at": datetime(2024, 1, 2, 3, 4, 5, 678)}, protocol 4
  datetimeMicros: hex(
    "8004953a000000000000007d94288c026964944b018c026174948c086461746574696d65948c086461746574696d65949394430a07e801020304050002a69485945294752e",
  ),
  // {"id": 1, "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)}, protocol 4: needs datetime.timezone
  datetimeTz: hex(
    "80049567000000000000007d94288c026964944b018c026174948c086461746574696d65948c086461746574696d65949394430a07e801020304050000009468038c0874696d657a6f6e6594939468038c0974696d6564656c74619493944b004b004b00879452948594529486945294752e",
  ),
  // {"id": 1, "at": datetime(2024, 1, 2)}, protocol 0: the state goes through _codecs.encode
  datetimeP0: hex(
    "286470300a5669640a70310a49310a735661740a70320a636461746574696d650a6461746574696d650a70330a28635f636f646563730a656e636f64650a70340a285607e801025c75303030305c75303030305c75303030305c75303030305c75303030305c75303030300a70350a566c6174696e310a70360a7470370a5270380a7470390a527031300a732e",
  ),
  // {"id": 1, "d": date(2024, 1, 2)}, protocol 4: datetime.date is not allowlisted
  date: hex("8004952f000000000000007d94288c026964944b018c0164948c086461746574696d65948c0464617465949394430407e801029485945294752e"),
  // {"id": 1, "l": l} where l = [[...10 refs...]] six levels deep: 10^6 strings from 164 bytes
  fanOut: hex(
    "800495a4000000000000007d94288c026964944b018c016c945d94285d94285d94285d94285d94285d94285d948c0a787878787878787878789461680968096809680968096809680968096809656808680868086808680868086808680868086568076807680768076807680768076807680765680668066806680668066806680668066806656805680568056805680568056805680568056568046804680468046804680468046804680465752e",
  ),
  // a = []; a.append(a); {"id": 1, "a": a}, protocol 2
  cycle: hex("80027d7100285802000000696471014b0158010000006171025d7103680361752e"),
  // {"id": 1, 5: "x"}, protocol 2
  intKey: hex("80027d7100285802000000696471014b014b055801000000787102752e"),
  // {"id": 1, "b": b"\x00\x01"}, protocol 3
  bytes: hex("80037d7100285802000000696471014b015801000000627102430200017103752e"),
  // {"id": 1, "f": float("nan")}, protocol 2
  nan: hex("80027d7100285802000000696471014b015801000000667102477ff8000000000000752e"),
  // {"id": 1, "n": 2**70}, protocol 2
  hugeInt: hex("80027d7100285802000000696471014b0158010000006e71028a09000000000000000040752e"),
  // {"id": 1, "c": C()} with class C in __main__, protocol 2
  object: hex("80027d7100285802000000696471014b015801000000637102635f5f6d61696e5f5f0a430a710329817104752e"),
};

const rejected = (value: Buffer) => {
  try {
    decodePickle(value);
  } catch (error) {
    expect(error).toBeInstanceOf(PickleRejectedError);
    return (error as Error).message;
  }
  throw new Error("expected the pickle to be rejected");
};

describe("pickle walker: plain data", () => {
  it("decodes protocol 2 dicts, lists, tuples, None, booleans, floats, longs and unicode", () => {
    expect(decodePickle(PICKLES.plainP2)).toEqual({
      id: 7,
      tags: ["a", "b"],
      pair: [1, 2.5],
      none: null,
      ok: true,
      no: false,
      big: 2 ** 40,
      neg: -5,
      nested: { k: "vé中" },
    });
  });

  it("decodes protocol 0 text opcodes (INT 01 as True, raw-unicode-escape, FLOAT, LIST)", () => {
    expect(decodePickle(PICKLES.plainP0)).toEqual({ id: 7, s: "it's\n", f: 1.25, l: [1, 2], t: true });
  });

  it("turns sets and frozensets into arrays", () => {
    expect(decodePickle(PICKLES.setsP4)).toEqual({ id: 1, s: [3], fs: [4] });
  });

  it("turns a naive datetime.datetime into Python's isoformat()", () => {
    expect(decodePickle(PICKLES.datetimeMicros)).toEqual({ id: 1, at: "2024-01-02T03:04:05.000678" });
  });
});

describe("pickle walker: rejections", () => {
  it("rejects every global but datetime.datetime", () => {
    expect(rejected(PICKLES.datetimeTz)).toMatch(/global datetime\.timezone/);
    expect(rejected(PICKLES.datetimeP0)).toMatch(/global _codecs\.encode/);
    expect(rejected(PICKLES.date)).toMatch(/global datetime\.date /);
    expect(rejected(PICKLES.object)).toMatch(/global __main__\.C/);
  });

  it.each([
    ["PERSID", "50666f6f0a2e"],
    ["BINPERSID", "80024e512e"],
    ["BUILD", "80027d7d622e"],
    ["INST", "28696f730a73797374656d0a2e"],
    ["OBJ", "28296f2e"],
    ["NEWOBJ", "80022929812e"],
    ["EXT1", "8002820101"],
    ["EXT2", "800283010001"],
    ["EXT4", "80028401000000"],
    ["NEWOBJ_EX", "800429297d922e"],
    ["NEXT_BUFFER", "8005972e"],
    ["READONLY_BUFFER", "8005982e"],
  ])("rejects %s at the opcode", (name, bytes) => {
    expect(rejected(hex(bytes))).toContain(name);
  });

  it("rejects REDUCE of anything but datetime.datetime", () => {
    expect(rejected(hex("80024e29522e"))).toMatch(/REDUCE/); // None() — no global at all
  });

  it("bounds memo fan-out and nesting", () => {
    expect(rejected(PICKLES.fanOut)).toMatch(/more than 100000 values/);
    expect(rejected(PICKLES.cycle)).toMatch(/nested deeper than 32/);
  });

  it("rejects what JSON cannot hold: non-string keys, bytes, NaN, integers past 2^53", () => {
    expect(rejected(PICKLES.intKey)).toMatch(/key that is not a string/);
    expect(rejected(PICKLES.bytes)).toMatch(/bytes value/);
    expect(rejected(PICKLES.nan)).toMatch(/NaN/);
    expect(rejected(PICKLES.hugeInt)).toMatch(/too large/);
  });

  it("rejects truncated or malformed input without throwing anything else", () => {
    const whole = PICKLES.plainP2;
    for (let length = 0; length < whole.length; length++) rejected(whole.subarray(0, length));
    expect(rejected(hex("80022e"))).toMatch(/malformed stack/);
    expect(rejected(hex("8006"))).toMatch(/protocol 6/);
    expect(rejected(hex("80025802ffffff7f2e"))).toMatch(/runs past the end/);
  });
});
