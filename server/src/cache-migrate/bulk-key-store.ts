import type { Redis } from "ioredis";
import type { EnvelopeParts } from "../cache/envelope.js";
import { NodeKeyStore, type JournalAppend, type ReadItem, type ReadResult, type WriteOp } from "./key-store.js";
import { TTL_BUCKETS, TTL_LIMITS_MS } from "./report.js";

/**
 * Lua that sets `ttl` to the report's TTL bucket of `pttl` (a key that exists), as one digit:
 * its index in `TTL_BUCKETS`. Built from `TTL_LIMITS_MS`, so the script and `ttlBucket()` share
 * one table. The bucket is all the report keeps of a TTL; sending the PTTL itself made Lua format
 * a number per key (`table.concat` of numbers goes through `sprintf("%.14g")`): measured with
 * callgrind on Redis 7.0.15, 23.6k instructions a key for the read script with the number, 20.4k
 * with the digit.
 */
const TTL_BUCKET_LUA = [
  `if pttl < 0 then ttl = '${TTL_BUCKETS.indexOf("no-ttl")}'`,
  ...TTL_LIMITS_MS.map(([limit, bucket]) => `elseif pttl < ${limit} then ttl = '${TTL_BUCKETS.indexOf(bucket)}'`),
  `else ttl = '${TTL_BUCKETS.indexOf(">=7d")}' end`,
].join("\n    ");

/**
 * Reads: per key `PTTL`, then the value while the byte budget lasts. The first key of a call is
 * sized with `STRLEN` before it is read (the size cap: a value over it is never read); every
 * later one is read with `GETRANGE 0 <budget left>` — one command instead of two — and a value
 * that does not fit comes back one byte longer than that, is dropped, and waits for a later call,
 * where it is the first key. So, past its first key, a call's values stay within its budget, and
 * the one value it reads and drops is at most the room left plus one byte.
 * Replies `{meta, value, value, ...}`: `meta` has one comma-separated entry per key read — its
 * TTL bucket digit (`TTL_BUCKET_LUA`) when its value follows in the list, `a` when absent,
 * `n<digit>` when not a string, `o<digit>:<length>` when over the cap. One reply element per
 * value instead of three per key: ioredis parses every element, and that was a third of the
 * read's cost. Measured in bench:cache (`INFO commandstats`, JSON family, 2 × AMD EPYC): the
 * first command on a key pays its memory misses (`STRLEN` 1.11 µs a call against 0.22–0.24 µs
 * for the `PTTL` and `GET` after it), and the Lua around the scripts' commands cost 4.7 µs a key.
 */
const READ_MANY = `
local cap = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local used = 0
local meta = {}
local out = {''}
for i, key in ipairs(KEYS) do
  local pttl = redis.call('PTTL', key)
  if pttl == -2 then
    meta[i] = 'a'
  else
    local ttl
    ${TTL_BUCKET_LUA}
    local value
    if i == 1 then
      local length = redis.pcall('STRLEN', key)
      if type(length) == 'table' then value = length
      elseif length > cap then value = false; meta[i] = 'o' .. ttl .. ':' .. length
      else value = redis.call('GET', key) end
    else
      local room = math.min(cap, budget - used)
      if room < 0 then break end
      value = redis.pcall('GETRANGE', key, 0, room)
      if type(value) == 'string' and #value > room then break end
    end
    if type(value) == 'table' then
      meta[i] = 'n' .. ttl
    elseif value then
      used = used + #value
      meta[i] = ttl
      out[#out + 1] = value
    end
  end
end
out[1] = table.concat(meta, ',')
return out`;

/**
 * Compare-and-set for many keys. KEYS: the keys, then the checkpoint journal list. ARGV[1],
 * ARGV[2]: the envelope's head and tail; ARGV[3], ARGV[4]: the journal entry (empty: none) and
 * its TTL in ms; ARGV[5..4+n]: each key's expected value; then pairs `position, json` for the
 * keys whose new value is not `expected` wrapped verbatim: the JSON text to wrap, or `d` to
 * delete (never valid JSON object text). Only if the value is still `expected`: SET
 * head .. json .. tail KEEPTTL, or DEL. So an expired key is not recreated, a newer write is
 * not overwritten, and the TTL is kept; a v1 JSON value crosses the wire once. The journal
 * entry is appended first, in the same atomic call. Returns the (1-based) positions of the keys
 * NOT written, usually none: one reply element instead of one per key.
 *
 * A set is one command per key, `SET … KEEPTTL GET`, instead of `GET` then `SET`: it swaps the
 * envelope in and returns what was there. When that was not `expected` (a concurrent write, or
 * the key expired), the swap is undone before the script returns — the value put back with
 * `KEEPTTL`, or an expired key deleted again — so no client can ever see it (a script is
 * atomic), and the newer write keeps its bytes and its TTL. A key that is not a string fails the
 * `SET … GET` with WRONGTYPE and is not touched; any other error (OOM) fails the whole call, as
 * before. Measured on the 2-core box (`INFO commandstats`, 100 keys a call, best of 8): 4.3 µs a
 * key for this script against 5.0 µs with `GET` + `SET`.
 */
const WRITE_MANY = `
local head, tail = ARGV[1], ARGV[2]
local count = #KEYS - 1
if ARGV[3] ~= '' then
  redis.call('RPUSH', KEYS[count + 1], ARGV[3])
  redis.call('PEXPIRE', KEYS[count + 1], ARGV[4])
end
local other = {}
for j = count + 5, #ARGV, 2 do other[tonumber(ARGV[j])] = ARGV[j + 1] end
local lost = {}
for i = 1, count do
  local key, expected, json = KEYS[i], ARGV[i + 4], other[i]
  if json == 'd' then
    if redis.pcall('GET', key) == expected then redis.call('DEL', key) else lost[#lost + 1] = i end
  else
    local found = redis.pcall('SET', key, head .. (json or expected) .. tail, 'KEEPTTL', 'GET')
    if found ~= expected then
      lost[#lost + 1] = i
      if type(found) == 'string' then
        redis.call('SET', key, found, 'KEEPTTL')
      elseif found == false then
        redis.call('DEL', key)
      elseif string.sub(found.err, 1, 9) ~= 'WRONGTYPE' then
        return redis.error_reply(found.err)
      end
    end
  end
end
return lost`;

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** No journal entry: the placeholder key is never touched (ARGV[3] is empty). */
const NO_JOURNAL: JournalAppend = { key: "switchboard:cache-migrate:no-journal", blob: "", ttlMs: 0 };

interface BulkCommands {
  switchboardReadManyBuffer(numberOfKeys: number, ...args: (string | number)[]): Promise<Buffer[]>;
  switchboardWriteMany(numberOfKeys: number, ...args: (string | Buffer)[]): Promise<number[]>;
}

/**
 * Many keys per Lua call on a standalone Redis. Measured on the 2-core dev box, ioredis spends
 * ~8 µs of client CPU per pipelined command, so four commands per key cap a pipelined migration
 * near 30k keys/s; one script call per a hundred keys removes that cost. The migrator keeps
 * calls small (100 keys: ~0.3 ms of Redis time to read, ~0.4 ms to write) so online reads never
 * wait long behind one.
 */
export class BulkKeyStore extends NodeKeyStore {
  readonly #redis: Redis & BulkCommands;

  constructor(redis: Redis, options: { id?: string } = {}) {
    super(redis, options.id);
    const client = redis as Redis & Partial<BulkCommands>;
    if (typeof client.switchboardWriteMany !== "function") {
      redis.defineCommand("switchboardReadMany", { lua: READ_MANY, readOnly: true });
      redis.defineCommand("switchboardWriteMany", { lua: WRITE_MANY });
    }
    this.#redis = redis as Redis & BulkCommands;
  }

  async read(keys: string[], budgetBytes: number, maxValueBytes: number): Promise<ReadResult> {
    const [meta, ...values] = await this.#redis.switchboardReadManyBuffer(keys.length, ...keys, maxValueBytes, Math.max(1, budgetBytes));
    const entries = meta!.length === 0 ? [] : meta!.toString("latin1").split(",");
    const items = new Array<ReadItem>(entries.length);
    let next = 0;
    for (let i = 0; i < entries.length; i++) {
      const key = keys[i]!;
      const entry = entries[i]!;
      const code = entry.charCodeAt(0);
      if (code >= DIGIT_0 && code <= DIGIT_9) items[i] = { key, state: "value", ttl: TTL_BUCKETS[code - DIGIT_0]!, value: values[next++]! };
      else if (code === 0x61 /* a */) items[i] = { key, state: "absent" };
      else if (code === 0x6e /* n */) items[i] = { key, state: "non-string", ttl: TTL_BUCKETS[entry.charCodeAt(1) - DIGIT_0]! };
      else items[i] = { key, state: "oversize", ttl: TTL_BUCKETS[entry.charCodeAt(1) - DIGIT_0]!, length: Number(entry.slice(3)) }; // o<digit>:<length>
    }
    return { items, unread: entries.length === keys.length ? [] : keys.slice(entries.length) };
  }

  write(ops: WriteOp[], envelope: EnvelopeParts): Promise<boolean[]> {
    return this.writeJournaled(ops, envelope, NO_JOURNAL);
  }

  async writeJournaled(ops: WriteOp[], envelope: EnvelopeParts, journal: JournalAppend): Promise<boolean[]> {
    const n = ops.length;
    const args: (string | Buffer)[] = new Array<string | Buffer>(2 * n + 5);
    args[n] = journal.key;
    args[n + 1] = envelope.head;
    args[n + 2] = envelope.tail;
    args[n + 3] = journal.blob;
    args[n + 4] = String(journal.ttlMs);
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      args[i] = op.key;
      args[n + 5 + i] = op.expected;
      if (op.op === "delete") args.push(String(i + 1), "d");
      else if (op.json !== op.expected) args.push(String(i + 1), op.json);
    }
    const lost = await this.#redis.switchboardWriteMany(n + 1, ...args);
    const written = new Array<boolean>(n).fill(true);
    for (const position of lost) written[position - 1] = false;
    return written;
  }
}
