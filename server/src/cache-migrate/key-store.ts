import type { Redis } from "ioredis";
import type { EnvelopeParts } from "../cache/envelope.js";
import type { TtlBucket } from "./report.js";

/**
 * How the migrator reads and conditionally writes one Redis node's keys. Two implementations:
 * `BulkKeyStore` (many keys per Lua call, standalone Redis) and `PipelineKeyStore` (one command
 * per key, pipelined; works on a Redis Cluster node, where a script may not touch keys of
 * different hash slots).
 */
/** What was found at a key; `ttl` is the report's bucket of its remaining TTL (all the report keeps of it). */
export type ReadItem =
  | { key: string; state: "value"; ttl: TtlBucket; value: Buffer }
  | { key: string; state: "absent" }
  | { key: string; state: "oversize"; ttl: TtlBucket; length: number }
  | { key: string; state: "non-string"; ttl: TtlBucket };

/**
 * Set the v2 envelope around `json` keeping the TTL, or delete — only if the value is still
 * `expected`. `json` is the data's exact JSON text; when it is `expected` itself (a v1 JSON
 * value wrapped verbatim) a store may send the bytes once.
 */
export type WriteOp = { key: string; expected: Buffer; op: "set"; json: Buffer } | { key: string; expected: Buffer; op: "delete" };

/** A checkpoint journal entry to append (RPUSH, then PEXPIRE `ttlMs`) atomically with writes. */
export interface JournalAppend {
  key: string;
  blob: string;
  ttlMs: number;
}

export interface ReadResult {
  items: ReadItem[];
  /** Keys left for a later batch because the byte budget ran out. */
  unread: string[];
}

export interface KeyStore {
  /** A name for logs and checkpoints (e.g. `127.0.0.1:7000`). */
  readonly id: string;
  /** The client used; commands sent on one client run in the order sent. */
  readonly connection: unknown;
  /** SCAN one page: the next cursor ("0" = done) and the keys. */
  scan(cursor: string, match: string, count: number): Promise<{ cursor: string; keys: string[] }>;
  /**
   * Reads keys (one call: a few hundred keys) until about `budgetBytes` of values were read (at
   * least one key is always read); the rest come back as `unread`. Values over `maxValueBytes`
   * are reported by length, never read.
   */
  read(keys: string[], budgetBytes: number, maxValueBytes: number): Promise<ReadResult>;
  /** Applies the ops as compare-and-set (a set writes `envelope.head`, its JSON, `envelope.tail`); per op `true` if written. */
  write(ops: WriteOp[], envelope: EnvelopeParts): Promise<boolean[]>;
  /**
   * Present when the store can append a checkpoint journal entry in the same atomic call as the
   * writes (one Lua script: the entry is never without its writes, nor the writes without it).
   * Only usable when the journal lives on this store's Redis.
   */
  writeJournaled?(ops: WriteOp[], envelope: EnvelopeParts, journal: JournalAppend): Promise<boolean[]>;
  /** Approximate number of keys on the node (for the progress bar). */
  size(): Promise<number>;
}

/** What both stores share: one node's connection, its name, SCAN and DBSIZE. */
export abstract class NodeKeyStore implements KeyStore {
  readonly id: string;
  readonly connection: Redis;

  constructor(redis: Redis, id?: string) {
    this.connection = redis;
    this.id = id ?? `${redis.options.host ?? "127.0.0.1"}:${redis.options.port ?? 6379}`;
  }

  async scan(cursor: string, match: string, count: number) {
    const [next, keys] = await this.connection.scan(cursor, "MATCH", match, "COUNT", count);
    return { cursor: next, keys };
  }

  size(): Promise<number> {
    return this.connection.dbsize();
  }

  abstract read(keys: string[], budgetBytes: number, maxValueBytes: number): Promise<ReadResult>;
  abstract write(ops: WriteOp[], envelope: EnvelopeParts): Promise<boolean[]>;
}
