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

/** Set `next` keeping the TTL, or delete — only if the value is still `expected`. */
export type WriteOp = { key: string; expected: Buffer; op: "set"; next: string } | { key: string; expected: Buffer; op: "delete" };

export interface KeyStore {
  /** A name for logs and checkpoints (e.g. `127.0.0.1:7000`). */
  readonly id: string;
  /** SCAN one page: the next cursor ("0" = done) and the keys. */
  scan(cursor: string, match: string, count: number): Promise<{ cursor: string; keys: string[] }>;
  /**
   * Reads keys in order, stopping once `budgetBytes` of values were read (at least one key is
   * always read). Values over `maxValueBytes` are reported by length, never read.
   */
  read(keys: string[], budgetBytes: number, maxValueBytes: number): Promise<ReadItem[]>;
  /** Applies the ops as compare-and-set; per op `true` if written. */
  write(ops: WriteOp[]): Promise<boolean[]>;
  /** Approximate number of keys on the node (for the progress bar). */
  size(): Promise<number>;
}
