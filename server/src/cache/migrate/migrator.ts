import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../../log/logger.js";
import type { Metrics } from "../../metrics.js";
import { decodeValue, decodeValueNow, type DecodeOptions, type DecodeOutcome } from "../decode-value.js";
import type { ValueFormat } from "../detect-format.js";
import { envelopeParts, type EnvelopeParts } from "../envelope.js";
import { DEFAULT_KEY_PREFIX, MAX_INPUT_BYTES } from "../limits.js";
import { userIdFromKey } from "../user-record.js";
import { Checkpoint, CHECKPOINT_TTL_MS, type CheckpointState, type JournalEntry } from "./checkpoint.js";
import { DecisionLog, type Decision } from "./decision-log.js";
import type { KeyStore, ReadItem, WriteOp } from "./key-store.js";
import { RateLimiter } from "./rate-limiter.js";
import { Semaphore } from "./semaphore.js";
import { buildReport, increment, recordFailure, recordSeen, type MigrationCounters, type MigrationReport, type SeenFormat } from "./report.js";

export interface MigrateOptions {
  /** One store per Redis master to scan. */
  stores: KeyStore[];
  /** Where the checkpoint lives (the standalone client, or the cluster client). */
  control: Redis | Cluster;
  /** @default ["user:"] */
  prefixes?: string[];
  /** Decode pickles as plain data (never executed). @default false */
  allowPickle?: boolean;
  /** Key prefixes whose pickles may be decoded when `allowPickle`. @default ["user:"] */
  picklePrefixes?: string[];
  /** Delete values that cannot be parsed (compare-and-delete). @default false */
  deleteUnparseable?: boolean;
  /** Decide and count everything, write nothing (not even a checkpoint). @default false */
  dryRun?: boolean;
  /** Max bytes of values per batch. @default 5 MB */
  batchBytes?: number;
  /** Max time spent gathering one batch, in ms. @default 100 */
  batchMs?: number;
  /** Keys per second; 0 = unlimited. @default 0 */
  rate?: number;
  /** Keys per page (one checkpoint), gathered by SCAN calls of COUNT ≤ 250. @default 1000 */
  scanCount?: number;
  /** Keys per Redis call (one Lua call, or one pipeline). @default 100 */
  keysPerCall?: number;
  /** Redis calls in flight at once (each reads, decides, then writes its keys). @default 2 */
  callsInFlight?: number;
  /** Attempts after a transient Redis error or a lost compare-and-set. @default 3 */
  maxRetries?: number;
  /** Names the checkpoint; a run with the same id resumes it. @default the prefixes, joined */
  runId?: string;
  /** Ignore an unfinished checkpoint and start over. @default false */
  restart?: boolean;
  /** @default 10 */
  top?: number;
  logger?: Logger;
  /** Share of routine decisions logged (failures always are). @default 0.1 */
  logSampleRate?: number;
  /** Called for every decision (not only the logged ones): `--metrics-port` / `--metrics-textfile`. */
  onDecision?: (decision: Decision, format: string) => void;
  metrics?: Pick<Metrics, "cacheMigrations">;
  progress?: { start(total: number): void; update(done: number): void; stop(): void };
  /** Aborting stops the run after the current page (its checkpoint is committed). */
  signal?: AbortSignal;
  /** Test seam: runs after a call's writes are journaled, right before its compare-and-set. */
  beforeWrite?: (ops: readonly WriteOp[]) => Promise<void> | void;
  /** Test seam: runs right after a call's compare-and-set, before anything is counted. */
  afterWrite?: (ops: readonly WriteOp[]) => Promise<void> | void;
  random?: () => number;
}

type Planned = { op: WriteOp; from: ValueFormat; value: Buffer; attempt: number };
type Pending = { key: string; attempt: number };

const GLOB_SPECIAL = /[*?[\]\\]/g;
/**
 * COUNT of one SCAN call: a page of `scanCount` keys is gathered by several. Measured on the
 * 2-core box, SCAN MATCH costs Redis ~1.2 µs a key, so COUNT 1000 held it ~1.2 ms in one go —
 * three times the longest migration script (100 keys) and time online reads wait behind it.
 */
const SCAN_CALL_COUNT = 250;
/**
 * Compressed values under 16 KB are inflated synchronously: measured on the 2-core dev box, the
 * async thread-pool round trip made a small value several times dearer (a mixed 20 %-compressed
 * run went from ~14k to ~21k keys/s). At most ~16 MB can come out of 16 KB (deflate's ratio is
 * ≤ 1032:1): a few ms of this CLI's event loop. The online path always inflates asynchronously.
 */
const INFLATE_SYNC_BELOW_BYTES = 16 * 1024;
/** Values inflated at once, over all calls in flight: the libuv thread pool size. */
const DECOMPRESS_CONCURRENCY = 4;

/**
 * Migrates every legacy `user:*` value to the v2 envelope on a live Redis (DESIGN.md §4):
 * SCAN page by page (never KEYS), read in byte- and time-bounded batches, decode, write with a
 * TTL-keeping compare-and-set, and checkpoint after each page so a killed run resumes.
 */
export async function runMigration(options: MigrateOptions): Promise<MigrationReport> {
  const run = new MigrationRun(options);
  return run.execute();
}

class MigrationRun {
  readonly #o: Required<Pick<MigrateOptions, "prefixes" | "allowPickle" | "picklePrefixes" | "deleteUnparseable" | "dryRun" | "batchBytes" | "batchMs" | "scanCount" | "keysPerCall" | "callsInFlight" | "maxRetries" | "top">> & MigrateOptions;
  readonly #checkpoint: Checkpoint;
  readonly #limiter: RateLimiter;
  readonly #log: DecisionLog;
  readonly #inflating = new Semaphore(DECOMPRESS_CONCURRENCY);
  /** Keys per call, halved when a call takes longer than `batchMs` (the time bound). */
  #callKeys: number;
  #state: CheckpointState = Checkpoint.fresh();
  #counters: MigrationCounters = this.#state.counters;
  #journal = new Map<string, JournalEntry>();
  #stampSuffix = Buffer.alloc(0);
  #envelope: EnvelopeParts = envelopeParts(this.#state.stamp);
  /** Settles when the previous page's checkpoint is committed (its journal cleared). */
  #committed: Promise<void> = Promise.resolve();

  constructor(options: MigrateOptions) {
    const prefixes = options.prefixes?.length ? options.prefixes : [DEFAULT_KEY_PREFIX];
    this.#o = {
      ...options,
      prefixes,
      allowPickle: options.allowPickle ?? false,
      picklePrefixes: options.picklePrefixes ?? [DEFAULT_KEY_PREFIX],
      deleteUnparseable: options.deleteUnparseable ?? false,
      dryRun: options.dryRun ?? false,
      batchBytes: options.batchBytes ?? 5 * 1024 * 1024,
      batchMs: options.batchMs ?? 100,
      scanCount: options.scanCount ?? 1000,
      keysPerCall: options.keysPerCall ?? 100,
      callsInFlight: options.callsInFlight ?? 2,
      maxRetries: options.maxRetries ?? 3,
      top: options.top ?? 10,
    };
    this.#checkpoint = new Checkpoint(options.control, options.runId ?? prefixes.join(","));
    this.#limiter = new RateLimiter(options.rate ?? 0);
    this.#log = new DecisionLog(options.logger, options.logSampleRate ?? 0.1, options.random, options.onDecision);
    this.#callKeys = this.#o.keysPerCall;
  }

  async execute(): Promise<MigrationReport> {
    const { dryRun, restart } = this.#o;
    const previous = dryRun || restart ? null : await this.#checkpoint.load();
    if (previous) {
      this.#state = previous;
      this.#journal = await this.#checkpoint.loadJournal();
      this.#o.logger?.info({ stamp: previous.stamp, keysSoFar: previous.counters.keys, journaled: this.#journal.size }, "resuming cache migration from its checkpoint");
    } else if (!dryRun) {
      await this.#checkpoint.clear();
      // Committed before the first page, so a crash during it resumes with its journal (and its
      // stamp) instead of starting over and counting its migrated keys as "already v2".
      await this.#checkpoint.commit(Checkpoint.serialize(this.#state));
    }
    this.#counters = this.#state.counters;
    this.#envelope = envelopeParts(this.#state.stamp);
    this.#stampSuffix = Buffer.from(`"created_at":"${this.#state.stamp}"}`);

    const total = (await Promise.all(this.#o.stores.map((s) => s.size().catch(() => 0)))).reduce((a, b) => a + b, 0);
    this.#o.progress?.start(total);
    this.#o.progress?.update(this.#counters.keys);
    try {
      for (const store of this.#o.stores) {
        for (const prefix of this.#o.prefixes) {
          if (!(await this.#scanStream(store, prefix))) return this.#report(false, previous !== null);
        }
      }
      this.#state.finished = true;
      if (!dryRun) await this.#checkpoint.commit(Checkpoint.serialize(this.#state));
      return this.#report(true, previous !== null);
    } finally {
      this.#o.progress?.stop();
    }
  }

  #report(complete: boolean, resumed: boolean): MigrationReport {
    return buildReport(this.#counters, { dryRun: this.#o.dryRun, complete, resumed, top: this.#o.top });
  }

  /**
   * Scans one stream (node × prefix) to its end; false if aborted. A page's checkpoint commit
   * overlaps the next page's reads and decoding; the next page's first write waits for it.
   */
  async #scanStream(store: KeyStore, prefix: string): Promise<boolean> {
    const id = `${store.id}|${prefix}`;
    const stream = (this.#state.streams[id] ??= { cursor: "0", done: false });
    const match = `${prefix.replace(GLOB_SPECIAL, "\\$&")}*`;
    const { scanCount } = this.#o;
    const count = Math.min(scanCount, SCAN_CALL_COUNT);
    const scan = (cursor: string) => {
      const page = (async () => {
        const keys: string[] = [];
        do {
          const part = await this.#retrying(() => store.scan(cursor, match, count));
          for (const key of part.keys) keys.push(key);
          cursor = part.cursor;
        } while (cursor !== "0" && keys.length < scanCount);
        return { cursor, keys };
      })();
      page.catch(() => undefined); // awaited below; this only keeps an abandoned prefetch quiet
      return page;
    };
    let next = stream.done ? undefined : scan(stream.cursor);
    let mark = performance.now();
    try {
      while (next) {
        if (this.#o.signal?.aborted) return false;
        const page = await next;
        next = page.cursor === "0" ? undefined : scan(page.cursor); // the next SCAN overlaps this page's work
        await this.#processKeys(store, prefix, [...new Set(page.keys)]); // SCAN may repeat a key within a page
        stream.cursor = page.cursor;
        stream.done = page.cursor === "0";
        this.#counters.activeMs += performance.now() - mark; // wall time, the previous commit included
        mark = performance.now();
        if (!this.#o.dryRun) {
          // Serialized now: the next page's counting must not leak into this page's checkpoint.
          const snapshot = Checkpoint.serialize(this.#state);
          this.#committed = this.#retrying(() => this.#checkpoint.commit(snapshot));
          this.#committed.catch(() => undefined); // awaited before the next write and below
        }
        this.#journal.clear();
        this.#o.progress?.update(this.#counters.keys);
      }
      return true;
    } finally {
      await this.#committed;
    }
  }

  /**
   * Reads, decides and writes the keys of one page, `callsInFlight` calls of up to `keysPerCall`
   * keys at a time (they pipeline on the connection, so Redis runs some while this process
   * decodes others). The calls in flight together are a batch: their reads share `batchBytes`,
   * and a call slower than `batchMs` is halved for the next ones.
   */
  async #processKeys(store: KeyStore, prefix: string, keys: string[]): Promise<void> {
    const queue: Pending[] = keys.map((key) => ({ key, attempt: 0 }));
    let head = 0;
    const budget = Math.max(1, Math.floor(this.#o.batchBytes / this.#o.callsInFlight));
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    for (;;) {
      while (!failure && inFlight.size < this.#o.callsInFlight && head < queue.length) {
        const size = Math.min(this.#callKeys, this.#limiter.chunk, queue.length - head);
        await this.#limiter.take(size);
        const call = queue.slice(head, (head += size));
        const started = performance.now();
        // Settled, not raced to a rejection: if one call fails the others finish first, so
        // nothing keeps writing after runMigration() has returned.
        const running: Promise<void> = this.#runCall(store, prefix, call, budget).then(
          (requeue) => {
            this.#adaptCall(performance.now() - started, call.length);
            for (const pending of requeue) queue.push(pending);
          },
          (error: unknown) => void (failure ??= { error }),
        );
        inFlight.add(running);
        void running.then(() => inFlight.delete(running));
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
    if (failure) throw failure.error;
  }

  #adaptCall(elapsedMs: number, size: number): void {
    if (elapsedMs > this.#o.batchMs) this.#callKeys = Math.max(1, Math.floor(size / 2));
    else if (elapsedMs < this.#o.batchMs / 4 && size >= this.#callKeys) this.#callKeys = Math.min(this.#o.keysPerCall, this.#callKeys * 2);
  }

  /** One call's keys: read, decide, journal, compare-and-set. Returns what to read again. */
  async #runCall(store: KeyStore, prefix: string, call: Pending[], budgetBytes: number): Promise<Pending[]> {
    const { items } = await this.#retrying(() => store.read(call.map((p) => p.key), budgetBytes, MAX_INPUT_BYTES));
    // Items come back in the order asked, the unread ones (byte budget spent) last.
    const outcomes = new Array<DecodeOutcome | undefined>(items.length);
    let inflating: Promise<void>[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.state !== "value") continue;
      const options = this.#decodeOptions(item.key, prefix);
      outcomes[i] = decodeValueNow(item.value, options);
      if (!outcomes[i]) (inflating ??= []).push(this.#inflating.use(() => decodeValue(item.value, options)).then((outcome) => void (outcomes[i] = outcome)));
    }
    if (inflating) await Promise.all(inflating);
    const planned: Planned[] = [];
    for (let i = 0; i < items.length; i++) {
      const next = this.#decide(prefix, items[i]!, call[i]!.attempt, outcomes[i]);
      if (next) planned.push(next);
    }
    const unread = call.slice(items.length);
    if (planned.length === 0) return unread;
    const again = await this.#write(store, planned);
    return again.length === 0 ? unread : [...unread, ...again];
  }

  #decodeOptions(key: string, prefix: string): DecodeOptions {
    const allowPickle = this.#o.allowPickle && this.#o.picklePrefixes.some((p) => key.startsWith(p));
    return { allowPickle, expectedId: userIdFromKey(key, prefix), inflateSyncBelowBytes: INFLATE_SYNC_BELOW_BYTES };
  }

  /** Journals and applies the planned writes; returns the keys whose compare-and-set lost. */
  async #write(store: KeyStore, planned: Planned[]): Promise<Pending[]> {
    const entries = planned.map(({ op, from }): [string, JournalEntry] => [op.key, { from, result: op.op === "set" ? "set" : "deleted" }]);
    for (const [key, entry] of entries) this.#journal.set(key, entry);
    const ops = planned.map((p) => p.op);
    let written: boolean[];
    if (this.#o.dryRun) {
      written = planned.map(() => true);
    } else {
      await this.#committed; // the previous page's commit clears the journal: this entry goes after it
      if (store.writeJournaled && store.connection === this.#o.control) {
        // The journal entry goes in the same atomic call as the writes.
        const journal = { key: this.#checkpoint.journalKey, blob: Checkpoint.journalBlob(entries), ttlMs: CHECKPOINT_TTL_MS };
        await this.#o.beforeWrite?.(ops);
        written = await this.#retrying(() => store.writeJournaled!(ops, this.#envelope, journal));
      } else {
        const journaled = this.#retrying(() => this.#checkpoint.journal(entries));
        // On one connection the journal entry is applied before the writes sent after it;
        // otherwise (a cluster node) wait for it.
        if (store.connection !== this.#o.control) await journaled;
        await this.#o.beforeWrite?.(ops);
        written = await this.#retrying(() => store.write(ops, this.#envelope));
        await journaled;
      }
      await this.#o.afterWrite?.(ops);
    }
    const again: Pending[] = [];
    planned.forEach(({ op, from, value, attempt }, i) => {
      if (written[i]) return this.#done(op, from, value);
      this.#journal.delete(op.key);
      this.#counters.conflicts += 1;
      this.#log.record("conflict", { key: op.key, format: from, reason: "value changed or expired since it was read" });
      if (attempt + 1 > this.#o.maxRetries) return recordFailure(this.#counters, "still-changing");
      this.#counters.retries += 1;
      again.push({ key: op.key, attempt: attempt + 1 });
    });
    return again;
  }

  #done(op: WriteOp, from: ValueFormat, value: Buffer): void {
    if (op.op === "delete") {
      this.#counters.deleted += 1;
      this.#log.record("deleted", { key: op.key, format: from, value });
      return;
    }
    this.#counters.migrated += 1;
    increment(this.#counters.migratedFrom, from);
    if (!this.#o.dryRun) this.#o.metrics?.cacheMigrations.inc({ from });
    this.#log.record("migrated", { key: op.key, format: from, value });
  }

  /** Counts a key as found (on its first sighting only). */
  #seen(item: ReadItem, format: SeenFormat, attempt: number): void {
    if (attempt === 0) recordSeen(this.#counters, item.key, format, item.pttlMs, item.state === "value" ? item.value.length : item.state === "oversize" ? item.length : undefined);
  }

  /** Counts and logs a value that is kept, not migrated (always logged). */
  #fail(item: ReadItem, attempt: number, format: SeenFormat, category: string, reason: string, value?: Buffer): null {
    this.#seen(item, format, attempt);
    recordFailure(this.#counters, category);
    this.#log.record("failed", { key: item.key, format, reason, ...(value ? { value } : {}) });
    return null;
  }

  /** Counts and (sampled) logs a key left as it is. */
  #leave(item: ReadItem, attempt: number, format: SeenFormat, counter: "expired" | "skipped" | "pickleSkipped", decision: Decision, reason?: string): null {
    this.#seen(item, format, attempt);
    this.#counters[counter] += 1;
    this.#log.record(decision, { key: item.key, format, ...(reason ? { reason } : {}) });
    return null;
  }

  /** What to do with one key, given its decoded value; counts it and returns a write, if any. */
  #decide(prefix: string, item: ReadItem, attempt: number, outcome: DecodeOutcome | undefined): Planned | null {
    const { key } = item;
    const journaled = this.#journal.get(key);
    switch (item.state) {
      case "absent":
        if (journaled?.result === "deleted") {
          this.#seen(item, journaled.from as SeenFormat, attempt);
          this.#counters.deleted += 1;
          return null;
        }
        return this.#leave(item, attempt, "absent", "expired", "expired");
      case "oversize":
        return this.#fail(item, attempt, "oversize", "oversize", `${item.length} bytes, over the ${MAX_INPUT_BYTES}-byte read cap`);
      case "non-string":
        return this.#fail(item, attempt, "non-string", "non-string", "not a string key");
      case "value":
        break;
    }
    const { value } = item;
    if (!outcome) throw new Error(`no decode outcome for ${key} under ${prefix}`); // every value is decoded by #runCall
    switch (outcome.kind) {
      case "data": {
        if (outcome.format !== "v2") {
          this.#seen(item, outcome.format, attempt);
          const json = outcome.json ?? Buffer.from(JSON.stringify(outcome.data)); // pickles have no JSON text
          // A v1 JSON value is wrapped verbatim: the store may send its bytes once.
          const verbatim = json.buffer === value.buffer && json.byteOffset === value.byteOffset && json.length === value.length;
          return { op: { key, op: "set", expected: value, json: verbatim ? value : json }, from: outcome.format, value, attempt };
        }
        if (journaled?.result === "set" && this.#isOwnStamp(value)) {
          // Written by this run before a crash or a retried call: count it once, as migrated.
          this.#seen(item, journaled.from as SeenFormat, attempt);
          this.#done({ key, op: "set", expected: value, json: value }, journaled.from as ValueFormat, value);
          return null;
        }
        if (this.#isOwnStamp(value)) {
          this.#counters.duplicates += 1; // SCAN returned a key this run already migrated
          return null;
        }
        return this.#leave(item, attempt, "v2", "skipped", "skipped");
      }
      case "not-decoded":
        return this.#leave(item, attempt, "v1-pickle", "pickleSkipped", "pickle-skipped", this.#o.allowPickle ? "prefix not allowlisted for pickle" : "--allow-pickle not given");
      case "rejected":
        return this.#fail(item, attempt, "v1-pickle", "pickle-rejected", outcome.reason, value);
      case "invalid":
        if (!this.#o.deleteUnparseable) return this.#fail(item, attempt, outcome.format, "unparseable", outcome.reason, value);
        this.#seen(item, outcome.format, attempt);
        return { op: { key, op: "delete", expected: value }, from: outcome.format, value, attempt };
    }
  }

  #isOwnStamp(value: Buffer): boolean {
    const suffix = this.#stampSuffix;
    return value.length > suffix.length && value.subarray(value.length - suffix.length).equals(suffix);
  }

  /** Runs a Redis call, retrying transient failures with backoff (counted as retries). */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= this.#o.maxRetries) {
          throw new Error(`Redis call failed ${attempt + 1} times (${(error as Error).message}); the checkpoint is intact: rerun the same command to resume.`, { cause: error });
        }
        this.#counters.retries += 1;
        this.#o.logger?.warn({ err: (error as Error).message, attempt: attempt + 1 }, "Redis call failed; retrying");
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}
