import type { Redis } from "ioredis";
import { cacheCommands, type CacheCommandsPipeline } from "../cache/cache-commands.js";
import type { EnvelopeParts } from "../cache/envelope.js";
import { NodeKeyStore, type ReadItem, type ReadResult, type WriteOp } from "./key-store.js";
import { ttlBucket, type TtlBucket } from "./report.js";

/**
 * One command per key, pipelined: `STRLEN` + `PTTL` for every key, then `GET` for the keys that
 * fit the byte budget, then the single-key compare-and-set scripts. Used on Redis Cluster nodes
 * (a Lua script may only touch keys of one hash slot) and with `--strategy pipeline`.
 */
export class PipelineKeyStore extends NodeKeyStore {
  readonly #redis: ReturnType<typeof cacheCommands> & Redis;

  constructor(redis: Redis, options: { id?: string } = {}) {
    super(redis, options.id);
    this.#redis = cacheCommands(redis) as ReturnType<typeof cacheCommands> & Redis;
  }

  async read(keys: string[], budgetBytes: number, maxValueBytes: number): Promise<ReadResult> {
    const sizes = this.#redis.pipeline();
    for (const key of keys) sizes.strlen(key).pttl(key);
    const sized = (await sizes.exec()) ?? [];
    const items: (ReadItem | { key: string; state: "to-read"; ttl: TtlBucket })[] = [];
    const unread: string[] = [];
    let used = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const [lengthError, length] = sized[i * 2] ?? [];
      const [pttlError, pttl] = sized[i * 2 + 1] ?? [];
      if (pttlError) throw pttlError;
      const pttlMs = pttl as number;
      const ttl = ttlBucket(pttlMs);
      if (lengthError) items.push({ key, state: "non-string", ttl });
      else if (pttlMs === -2) items.push({ key, state: "absent" });
      else if ((length as number) > maxValueBytes) items.push({ key, state: "oversize", ttl, length: length as number });
      else {
        if (i > 0 && used + (length as number) > budgetBytes) {
          unread.push(...keys.slice(i));
          break;
        }
        used += length as number;
        items.push({ key, state: "to-read", ttl });
      }
    }
    const gets = this.#redis.pipeline();
    for (const item of items) if (item.state === "to-read") gets.getBuffer(item.key);
    const values = (await gets.exec()) ?? [];
    let next = 0;
    const read = items.map((item): ReadItem => {
      if (item.state !== "to-read") return item;
      const [error, value] = values[next++] ?? [];
      if (error) throw error;
      // Deleted between STRLEN and GET: absent, like any key that expires mid-run.
      return value === null ? { key: item.key, state: "absent" } : { key: item.key, state: "value", ttl: item.ttl, value: value as Buffer };
    });
    return { items: read, unread };
  }

  async write(ops: WriteOp[], envelope: EnvelopeParts): Promise<boolean[]> {
    const pipeline = this.#redis.pipeline() as ReturnType<Redis["pipeline"]> & CacheCommandsPipeline;
    for (const op of ops) {
      if (op.op === "set") pipeline.switchboardCacheCas(op.key, op.expected, Buffer.concat([envelope.head, op.json, envelope.tail]));
      else pipeline.switchboardCacheCasDelete(op.key, op.expected);
    }
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, written]) => {
      if (error) throw error;
      return written === 1;
    });
  }
}
