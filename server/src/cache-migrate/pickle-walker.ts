/**
 * Decodes a Python pickle as plain data only, by walking its opcodes (protocols 0–5,
 * https://github.com/python/cpython/blob/3.11/Lib/pickletools.py). Nothing is ever called or
 * constructed: GLOBAL/STACK_GLOBAL name a callable, and the only one accepted is
 * `datetime.datetime`, which becomes an ISO 8601 string when REDUCEd with its 10-byte state.
 * Any other global, and every opcode that builds objects (INST, OBJ, NEWOBJ, NEWOBJ_EX, BUILD,
 * EXT1/2/4, PERSID, BINPERSID, out-of-band buffers), rejects the whole value.
 *
 * Written as a walker rather than a general parser (e.g. `pickleparser`) so that what is
 * accepted is a short explicit list, and a rejection happens at the opcode, before anything
 * downstream sees a half-built value.
 */

export class PickleRejectedError extends Error {
  constructor(reason: string) {
    super(`pickle rejected: ${reason}`);
    this.name = "PickleRejectedError";
  }
}

export interface PickleLimits {
  /** Max nesting depth of the decoded value. @default 32 */
  maxDepth?: number;
  /** Max number of values in the decoded result (memo references count each time). @default 100000 */
  maxNodes?: number;
}

const DATETIME_CLASS = Symbol("datetime.datetime");

class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}
class PickleSet {
  constructor(readonly items: unknown[]) {}
}
class PickleBytes {
  constructor(readonly bytes: Buffer) {}
}
class PickleDatetime {
  constructor(readonly iso: string) {}
}

const REJECTED_OPCODES: Record<number, string> = {
  80: "PERSID",
  81: "BINPERSID",
  98: "BUILD",
  105: "INST",
  111: "OBJ",
  129: "NEWOBJ",
  130: "EXT1",
  131: "EXT2",
  132: "EXT4",
  146: "NEWOBJ_EX",
  151: "NEXT_BUFFER",
  152: "READONLY_BUFFER",
};

class Reader {
  position = 0;
  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    const value = this.buffer[this.position];
    if (value === undefined) throw new PickleRejectedError("truncated (no STOP opcode)");
    this.position += 1;
    return value;
  }

  bytes(length: number | bigint): Buffer {
    const n = Number(length);
    if (!Number.isSafeInteger(n) || n < 0 || this.position + n > this.buffer.length) {
      throw new PickleRejectedError(`length ${length} runs past the end of the value`);
    }
    const out = this.buffer.subarray(this.position, this.position + n);
    this.position += n;
    return out;
  }

  uint(width: 1 | 2 | 4): number {
    const b = this.bytes(width);
    return width === 1 ? b.readUInt8(0) : width === 2 ? b.readUInt16LE(0) : b.readUInt32LE(0);
  }

  uint64(): bigint {
    return this.bytes(8).readBigUInt64LE(0);
  }

  /** A protocol 0 text argument: everything up to the next newline. */
  line(): string {
    const end = this.buffer.indexOf(0x0a, this.position);
    if (end < 0) throw new PickleRejectedError("truncated text argument");
    const text = this.buffer.toString("latin1", this.position, end);
    this.position = end + 1;
    return text;
  }
}

/** Python's `raw-unicode-escape` (UNICODE opcode): latin-1 bytes plus \uXXXX / \UXXXXXXXX. */
function decodeRawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt(u4 ?? u8 ?? "0", 16)),
  );
}

const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", f: "\f", v: "\v", "\\": "\\", "'": "'", '"': '"' };

/** A protocol 0 STRING argument: a Python 2 `repr()` of a byte string, decoded as latin-1. */
function decodeStringRepr(text: string): string {
  const quote = text[0];
  if ((quote !== "'" && quote !== '"') || text.length < 2 || text[text.length - 1] !== quote) {
    throw new PickleRejectedError("STRING argument is not quoted");
  }
  return text.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, sequence: string) => {
    if (sequence.startsWith("x") && sequence.length === 3) return String.fromCharCode(parseInt(sequence.slice(1), 16));
    if (/^[0-7]+$/.test(sequence)) return String.fromCharCode(parseInt(sequence, 8) & 0xff);
    return SIMPLE_ESCAPES[sequence] ?? `\\${sequence}`;
  });
}

function decodeLong(bytes: Buffer): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0);
  if ((bytes[bytes.length - 1] ?? 0) & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return narrow(value);
}

function narrow(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function parseTextInt(text: string): number | bigint | boolean {
  if (text === "00") return false; // protocol 0 spells booleans as INT 00 / 01
  if (text === "01") return true;
  const digits = text.endsWith("L") ? text.slice(0, -1) : text;
  if (!/^[+-]?\d+$/.test(digits)) throw new PickleRejectedError("malformed INT/LONG argument");
  return narrow(BigInt(digits));
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * `datetime.datetime.__reduce__` state: year (2 bytes, big-endian), month (high bit = fold),
 * day, hour, minute, second, microsecond (3 bytes). Formatted like Python's `isoformat()`.
 */
function datetimeFromState(args: unknown): PickleDatetime {
  if (!(args instanceof PickleTuple) || args.items.length !== 1) {
    throw new PickleRejectedError("datetime.datetime with a tzinfo or unexpected arguments");
  }
  const [state] = args.items;
  const bytes = state instanceof PickleBytes ? state.bytes : typeof state === "string" ? Buffer.from(state, "latin1") : undefined;
  if (bytes?.length !== 10) throw new PickleRejectedError("datetime.datetime state is not 10 bytes");
  const year = bytes.readUInt16BE(0);
  const [month, day, hour, minute, second] = [bytes[2]! & 0x7f, bytes[3]!, bytes[4]!, bytes[5]!, bytes[6]!];
  const micro = (bytes[7]! << 16) | (bytes[8]! << 8) | bytes[9]!;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 || micro > 999_999) {
    throw new PickleRejectedError("datetime.datetime state out of range");
  }
  const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}`;
  return new PickleDatetime(micro ? `${date}.${pad(micro, 6)}` : date);
}

function resolveGlobal(module: string, name: string): typeof DATETIME_CLASS {
  if (module === "datetime" && name === "datetime") return DATETIME_CLASS;
  throw new PickleRejectedError(`global ${module}.${name} is not allowlisted`);
}

/** Walks the opcodes and returns the raw decoded value (Maps, tuples, ...), never calling anything. */
function walk(buffer: Buffer): unknown {
  const reader = new Reader(buffer);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      throw new PickleRejectedError("stack underflow");
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new PickleRejectedError("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const at = marks.pop();
    if (at === undefined) throw new PickleRejectedError("no MARK on the stack");
    return stack.splice(at);
  };
  const memoGet = (index: number) => {
    if (!memo.has(index)) throw new PickleRejectedError(`memo ${index} is undefined`);
    return memo.get(index);
  };
  const asDict = (value: unknown): Map<unknown, unknown> => {
    if (!(value instanceof Map)) throw new PickleRejectedError("SETITEM(S) on a non-dict");
    return value;
  };
  const asList = (value: unknown): unknown[] => {
    if (!Array.isArray(value)) throw new PickleRejectedError("APPEND(S) on a non-list");
    return value;
  };
  const setItems = (dict: Map<unknown, unknown>, items: unknown[]) => {
    if (items.length % 2 !== 0) throw new PickleRejectedError("odd number of SETITEMS arguments");
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };

  for (;;) {
    const opcode = reader.byte();
    const rejected = REJECTED_OPCODES[opcode];
    if (rejected) throw new PickleRejectedError(`opcode ${rejected} builds objects`);
    switch (opcode) {
      case 0x80: {
        // PROTO
        const protocol = reader.byte();
        if (protocol > 5) throw new PickleRejectedError(`unsupported protocol ${protocol}`);
        break;
      }
      case 0x95:
        reader.uint64();
        break; // FRAME: only a length hint
      case 0x2e: {
        // STOP
        if (stack.length !== 1 || marks.length > 0) throw new PickleRejectedError("STOP with a malformed stack");
        return stack[0];
      }
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x49:
        stack.push(parseTextInt(reader.line()));
        break; // INT
      case 0x4c:
        stack.push(parseTextInt(reader.line()));
        break; // LONG
      case 0x4a:
        stack.push(reader.bytes(4).readInt32LE(0));
        break; // BININT
      case 0x4b:
        stack.push(reader.uint(1));
        break; // BININT1
      case 0x4d:
        stack.push(reader.uint(2));
        break; // BININT2
      case 0x8a:
        stack.push(decodeLong(reader.bytes(reader.uint(1))));
        break; // LONG1
      case 0x8b:
        stack.push(decodeLong(reader.bytes(reader.uint(4))));
        break; // LONG4
      case 0x46:
        stack.push(Number(reader.line()));
        break; // FLOAT
      case 0x47:
        stack.push(reader.bytes(8).readDoubleBE(0));
        break; // BINFLOAT
      case 0x53:
        stack.push(decodeStringRepr(reader.line()));
        break; // STRING
      case 0x54:
        stack.push(reader.bytes(reader.uint(4)).toString("latin1"));
        break; // BINSTRING
      case 0x55:
        stack.push(reader.bytes(reader.uint(1)).toString("latin1"));
        break; // SHORT_BINSTRING
      case 0x56:
        stack.push(decodeRawUnicodeEscape(reader.line()));
        break; // UNICODE
      case 0x58:
        stack.push(reader.bytes(reader.uint(4)).toString("utf8"));
        break; // BINUNICODE
      case 0x8c:
        stack.push(reader.bytes(reader.uint(1)).toString("utf8"));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(reader.bytes(reader.uint64()).toString("utf8"));
        break; // BINUNICODE8
      case 0x42:
        stack.push(new PickleBytes(reader.bytes(reader.uint(4))));
        break; // BINBYTES
      case 0x43:
        stack.push(new PickleBytes(reader.bytes(reader.uint(1))));
        break; // SHORT_BINBYTES
      case 0x8e:
        stack.push(new PickleBytes(reader.bytes(reader.uint64())));
        break; // BINBYTES8
      case 0x96:
        stack.push(new PickleBytes(reader.bytes(reader.uint64())));
        break; // BYTEARRAY8
      case 0x29:
        stack.push(new PickleTuple([]));
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(new PickleTuple(popMark()));
        break; // TUPLE
      case 0x85:
        stack.push(new PickleTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x61: {
        const item = pop();
        asList(top()).push(item);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        asList(top()).push(...items);
        break;
      } // APPENDS
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const dict = new Map();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      } // DICT
      case 0x73: {
        const value = pop();
        const key = pop();
        asDict(top()).set(key, value);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(asDict(top()), items);
        break;
      } // SETITEMS
      case 0x8f:
        stack.push(new PickleSet([]));
        break; // EMPTY_SET
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof PickleSet)) throw new PickleRejectedError("ADDITEMS on a non-set");
        set.items.push(...items);
        break;
      }
      case 0x91:
        stack.push(new PickleSet(popMark()));
        break; // FROZENSET
      case 0x67:
        stack.push(memoGet(Number(reader.line())));
        break; // GET
      case 0x68:
        stack.push(memoGet(reader.uint(1)));
        break; // BINGET
      case 0x6a:
        stack.push(memoGet(reader.uint(4)));
        break; // LONG_BINGET
      case 0x70:
        memo.set(Number(reader.line()), top());
        break; // PUT
      case 0x71:
        memo.set(reader.uint(1), top());
        break; // BINPUT
      case 0x72:
        memo.set(reader.uint(4), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = reader.line();
        stack.push(resolveGlobal(module, reader.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") throw new PickleRejectedError("STACK_GLOBAL needs two strings");
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE: only datetime.datetime(state)
        const args = pop();
        const callable = pop();
        if (callable !== DATETIME_CLASS) throw new PickleRejectedError("REDUCE of something other than datetime.datetime");
        stack.push(datetimeFromState(args));
        break;
      }
      default:
        throw new PickleRejectedError(`unknown opcode 0x${opcode.toString(16).padStart(2, "0")}`);
    }
  }
}

/** Converts the walked value to JSON data, with depth and size limits (memo references can fan out). */
function toPlain(value: unknown, limits: Required<PickleLimits>): unknown {
  let nodes = 0;
  const convert = (item: unknown, depth: number): unknown => {
    if (++nodes > limits.maxNodes) throw new PickleRejectedError(`more than ${limits.maxNodes} values`);
    if (depth > limits.maxDepth) throw new PickleRejectedError(`nested deeper than ${limits.maxDepth}`);
    if (item === null || typeof item === "string" || typeof item === "boolean") return item;
    if (typeof item === "number") {
      if (!Number.isFinite(item)) throw new PickleRejectedError("NaN or infinite float");
      return item;
    }
    if (typeof item === "bigint") throw new PickleRejectedError("integer too large for JSON");
    if (item instanceof PickleDatetime) return item.iso;
    if (item instanceof PickleBytes) throw new PickleRejectedError("bytes value");
    if (Array.isArray(item)) return item.map((x) => convert(x, depth + 1));
    if (item instanceof PickleTuple || item instanceof PickleSet) return item.items.map((x) => convert(x, depth + 1));
    if (item instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [key, entry] of item) {
        if (typeof key !== "string") throw new PickleRejectedError("dict key that is not a string");
        Object.defineProperty(out, key, { value: convert(entry, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    throw new PickleRejectedError("a global that was never called");
  };
  return convert(value, 0);
}

/** Decodes a pickle to plain JSON data, or throws `PickleRejectedError`. Never executes anything. */
export function decodePickle(value: Buffer, limits: PickleLimits = {}): unknown {
  return toPlain(walk(value), { maxDepth: limits.maxDepth ?? 32, maxNodes: limits.maxNodes ?? 100_000 });
}
