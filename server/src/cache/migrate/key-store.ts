import type { Redis } from "ioredis";

/**
 * How the migrator reads and conditionally writes one Redis node's keys. Two implementations:
 * `BulkKeyStore` (many keys per Lua call, standalone Redis) and `PipelineKeyStore` (one command
 * per key, pipelined; works on a Redis Cluster node, where a script may not touch keys of
 * different hash slots).
 */
export type ReadItem =
  | { key: string; state: "value"; pttlMs: number; value: Buffer }
  | { key: string; state: "absent"; pttlMs: -2 }
  | { key: string; state: "oversize"; pttlMs: number; length: number }
  | { key: string; state: "non-string"; pttlMs: number };

/**
 * Set `next` keeping the TTL, or delete — only if the value is still `expected`. When `next`
 * contains `expected` verbatim (a v1 JSON object wrapped in the envelope), `expectedAt` is its
 * offset, so a store may send `next` alone and compare against that slice.
 */
export type WriteOp =
  | { key: string; expected: Buffer; op: "set"; next: Buffer; expectedAt?: number }
  | { key: string; expected: Buffer; op: "delete" };

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
  /** Applies the ops as compare-and-set; per op `true` if written. */
  write(ops: WriteOp[]): Promise<boolean[]>;
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
  abstract write(ops: WriteOp[]): Promise<boolean[]>;
}
