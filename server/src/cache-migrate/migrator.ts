import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import type { DecodeOutcome } from "../cache/decode-value.js";
import type { ValueFormat } from "../cache/detect-format.js";
import { envelopeParts, type EnvelopeParts } from "../cache/envelope.js";
import { DEFAULT_KEY_PREFIX, MAX_INPUT_BYTES } from "../cache/limits.js";
import { userIdFromKey } from "../cache/user-record.js";
import { decodeMigrationValue, decodeMigrationValueNow, type MigrationDecodeOptions } from "./decode-migration-value.js";
import { Checkpoint, CHECKPOINT_TTL_MS, type CheckpointState, type JournalEntry } from "./checkpoint.js";
import { decideKey, type KeyOutcome } from "./decide-key.js";
import { DecisionLog, type Decision } from "./decision-log.js";
import type { KeyStore, ReadItem, WriteOp } from "./key-store.js";
import { RateLimiter } from "./rate-limiter.js";
import { migrationRetryDelay } from "./retry-delay.js";
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
  /**
   * Keys per page (one checkpoint), gathered by SCAN calls of COUNT ≤ 250. A page's calls drain
   * before the next page's start (its journal is cleared with the checkpoint), so each page pays
   * one pipeline drain: bench:cache's JSON family ran 87.6-92.6k keys/s with 4,000 against
   * 82.8-87.4k with 1,000 (2 × Intel Xeon, alternated). A killed run redoes at most one page,
   * and that is idempotent. @default 4000
   */
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

type Planned = { op: WriteOp; from: ValueFormat; attempt: number };
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
 * Migrates every legacy `user:*` value to the v2 envelope on a live Redis: SCAN page by page
 * (never KEYS), read in byte- and time-bounded batches, decode, decide (`decideKey`), write with
 * a TTL-keeping compare-and-set, and checkpoint after each page so a killed run resumes
 * (docs/cache.md#the-migration-tool).
 */
export async function runMigration(options: MigrateOptions): Promise<MigrationReport> {
  const settings = withDefaults(options);
  const checkpoint = new Checkpoint(options.control, options.runId ?? settings.prefixes.join(","));
  const start = await startingPoint(settings, checkpoint);
  return new MigrationRun(settings, checkpoint, start).execute();
}

type Settings = Required<
  Pick<
    MigrateOptions,
    | "prefixes"
    | "allowPickle"
    | "picklePrefixes"
    | "deleteUnparseable"
    | "dryRun"
    | "batchBytes"
    | "batchMs"
    | "scanCount"
    | "keysPerCall"
    | "callsInFlight"
    | "maxRetries"
    | "top"
  >
> &
  MigrateOptions;

/** The defaults of `runMigration`'s pace and report options, which `cache:migrate` also shows and parses against. */
export const MIGRATE_DEFAULTS = {
  prefixes: [DEFAULT_KEY_PREFIX],
  picklePrefixes: [DEFAULT_KEY_PREFIX],
  batchBytes: 5 * 1024 * 1024,
  batchMs: 100,
  rate: 0,
  scanCount: 4000,
  keysPerCall: 100,
  callsInFlight: 2,
  maxRetries: 3,
  top: 10,
  logSampleRate: 0.1,
} as const;

function withDefaults(options: MigrateOptions): Settings {
  const d = MIGRATE_DEFAULTS;
  return {
    ...options,
    prefixes: options.prefixes?.length ? options.prefixes : [...d.prefixes],
    allowPickle: options.allowPickle ?? false,
    picklePrefixes: options.picklePrefixes ?? [...d.picklePrefixes],
    deleteUnparseable: options.deleteUnparseable ?? false,
    dryRun: options.dryRun ?? false,
    batchBytes: options.batchBytes ?? d.batchBytes,
    batchMs: options.batchMs ?? d.batchMs,
    scanCount: options.scanCount ?? d.scanCount,
    keysPerCall: options.keysPerCall ?? d.keysPerCall,
    callsInFlight: options.callsInFlight ?? d.callsInFlight,
    maxRetries: options.maxRetries ?? d.maxRetries,
    top: options.top ?? d.top,
  };
}

/** Where a run starts: the unfinished checkpoint it resumes (with its journal), or a fresh state. */
interface StartingPoint {
  state: CheckpointState;
  journal: Map<string, JournalEntry>;
  resumed: boolean;
}

async function startingPoint(settings: Settings, checkpoint: Checkpoint): Promise<StartingPoint> {
  const { dryRun, restart } = settings;
  const previous = dryRun || restart ? null : await checkpoint.load();
  if (previous) {
    const journal = await checkpoint.loadJournal();
    settings.logger?.info(
      { stamp: previous.stamp, keysSoFar: previous.counters.keys, journaled: journal.size },
      "resuming cache migration from its checkpoint",
    );
    return { state: previous, journal, resumed: true };
  }
  const state = Checkpoint.fresh();
  if (!dryRun) {
    await checkpoint.clear();
    // Committed before the first page, so a crash during it resumes with its journal (and its
    // stamp) instead of starting over and counting its migrated keys as "already v2".
    await checkpoint.commit(Checkpoint.serialize(state));
  }
  return { state, journal: new Map(), resumed: false };
}

/**
 * One run. Its only state is what cannot be derived: the checkpoint state (cursors, counters,
 * the stamp), the journal of the page in progress, the adaptive call size and the pending
 * commit. Everything else is read from `#state` (the counters), or derived from it once (the
 * envelope's bytes, from the stamp: checking and encoding it twice a call was needless work).
 */
class MigrationRun {
  readonly #settings: Settings;
  readonly #checkpoint: Checkpoint;
  readonly #state: CheckpointState;
  /** For the page in progress: what this run wrote (noted before writing), cleared at each commit. */
  readonly #journal: Map<string, JournalEntry>;
  readonly #resumed: boolean;
  readonly #limiter: RateLimiter;
  readonly #log: DecisionLog;
  readonly #inflating = new Semaphore(DECOMPRESS_CONCURRENCY);
  /** The bytes around every envelope this run writes: its stamp is fixed for the run. */
  readonly #envelope: EnvelopeParts;
  /** Keys per call, halved when a call takes longer than `batchMs` (the time bound). */
  #callKeys: number;
  /** Settles when the previous page's checkpoint is committed (its journal cleared). */
  #committed: Promise<void> = Promise.resolve();

  constructor(settings: Settings, checkpoint: Checkpoint, start: StartingPoint) {
    this.#settings = settings;
    this.#checkpoint = checkpoint;
    this.#state = start.state;
    this.#journal = start.journal;
    this.#resumed = start.resumed;
    this.#limiter = new RateLimiter(settings.rate ?? MIGRATE_DEFAULTS.rate);
    this.#log = new DecisionLog(settings.logger, settings.logSampleRate ?? MIGRATE_DEFAULTS.logSampleRate, settings.random, settings.onDecision);
    this.#callKeys = settings.keysPerCall;
    this.#envelope = envelopeParts(start.state.stamp);
  }

  get #counters(): MigrationCounters {
    return this.#state.counters;
  }

  async execute(): Promise<MigrationReport> {
    const total = (await Promise.all(this.#settings.stores.map((s) => s.size().catch(() => 0)))).reduce((a, b) => a + b, 0);
    this.#settings.progress?.start(total);
    this.#settings.progress?.update(this.#counters.keys);
    try {
      for (const store of this.#settings.stores) {
        for (const prefix of this.#settings.prefixes) {
          if (!(await this.#scanStream(store, prefix))) return this.#report(false);
        }
      }
      this.#state.finished = true;
      if (!this.#settings.dryRun) await this.#checkpoint.commit(Checkpoint.serialize(this.#state));
      return this.#report(true);
    } finally {
      this.#settings.progress?.stop();
    }
  }

  #report(complete: boolean): MigrationReport {
    return buildReport(this.#counters, { dryRun: this.#settings.dryRun, complete, resumed: this.#resumed, top: this.#settings.top });
  }

  /**
   * Scans one stream (node × prefix) to its end; false if aborted. A page's checkpoint commit
   * overlaps the next page's reads and decoding; the next page's first write waits for it.
   */
  async #scanStream(store: KeyStore, prefix: string): Promise<boolean> {
    const id = `${store.id}|${prefix}`;
    const stream = (this.#state.streams[id] ??= { cursor: "0", done: false });
    const match = `${prefix.replace(GLOB_SPECIAL, "\\$&")}*`;
    const { scanCount } = this.#settings;
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
        if (this.#settings.signal?.aborted) return false;
        const page = await next;
        next = page.cursor === "0" ? undefined : scan(page.cursor); // the next SCAN overlaps this page's work
        await this.#processKeys(store, prefix, [...new Set(page.keys)]); // SCAN may repeat a key within a page
        stream.cursor = page.cursor;
        stream.done = page.cursor === "0";
        this.#counters.activeMs += performance.now() - mark; // wall time, the previous commit included
        mark = performance.now();
        if (!this.#settings.dryRun) {
          // Serialized now: the next page's counting must not leak into this page's checkpoint.
          const snapshot = Checkpoint.serialize(this.#state);
          this.#committed = this.#retrying(() => this.#checkpoint.commit(snapshot));
          this.#committed.catch(() => undefined); // awaited before the next write and below
        }
        this.#journal.clear();
        this.#settings.progress?.update(this.#counters.keys);
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
    const budget = Math.max(1, Math.floor(this.#settings.batchBytes / this.#settings.callsInFlight));
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    for (;;) {
      while (!failure && inFlight.size < this.#settings.callsInFlight && head < queue.length) {
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
    if (elapsedMs > this.#settings.batchMs) this.#callKeys = Math.max(1, Math.floor(size / 2));
    else if (elapsedMs < this.#settings.batchMs / 4 && size >= this.#callKeys) this.#callKeys = Math.min(this.#settings.keysPerCall, this.#callKeys * 2);
  }

  /** One call's keys: read, decide, journal, compare-and-set. Returns what to read again. */
  async #runCall(store: KeyStore, prefix: string, call: Pending[], budgetBytes: number): Promise<Pending[]> {
    const { items } = await this.#retrying(() =>
      store.read(
        call.map((p) => p.key),
        budgetBytes,
        MAX_INPUT_BYTES,
      ),
    );
    // Items come back in the order asked, the unread ones (byte budget spent) last.
    const outcomes = new Array<DecodeOutcome | undefined>(items.length);
    let inflating: Promise<void>[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.state !== "value") continue;
      const options = this.#decodeOptions(item.key, prefix);
      outcomes[i] = decodeMigrationValueNow(item.value, options);
      if (!outcomes[i])
        (inflating ??= []).push(this.#inflating.use(() => decodeMigrationValue(item.value, options)).then((outcome) => void (outcomes[i] = outcome)));
    }
    if (inflating) await Promise.all(inflating);
    const envelope = this.#envelope;
    const planned: Planned[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const { attempt } = call[i]!;
      const decision = decideKey({ item, outcome: outcomes[i], journaled: this.#journal.get(item.key), ownEnvelopeTail: envelope.tail }, this.#settings);
      if (decision.seen !== null) this.#seen(item, decision.seen, attempt);
      if (decision.action === "write") planned.push({ op: decision.op, from: decision.from, attempt });
      else this.#settle(item.key, decision.outcome, item.state === "value" ? item.value : undefined);
    }
    const unread = call.slice(items.length);
    if (planned.length === 0) return unread;
    const again = await this.#write(store, planned);
    return again.length === 0 ? unread : [...unread, ...again];
  }

  #decodeOptions(key: string, prefix: string): MigrationDecodeOptions {
    const allowPickle = this.#settings.allowPickle && this.#settings.picklePrefixes.some((p) => key.startsWith(p));
    return { allowPickle, expectedId: userIdFromKey(key, prefix), inflateSyncBelowBytes: INFLATE_SYNC_BELOW_BYTES };
  }

  /** Journals and applies the planned writes; returns the keys whose compare-and-set lost. */
  async #write(store: KeyStore, planned: Planned[]): Promise<Pending[]> {
    const entries = planned.map(({ op, from }): [string, JournalEntry] => [op.key, { from, result: op.op === "set" ? "set" : "deleted" }]);
    for (const [key, entry] of entries) this.#journal.set(key, entry);
    const ops = planned.map((p) => p.op);
    const envelope = this.#envelope;
    let written: boolean[];
    if (this.#settings.dryRun) {
      written = planned.map(() => true);
    } else {
      await this.#committed; // the previous page's commit clears the journal: this entry goes after it
      if (store.writeJournaled && store.connection === this.#settings.control) {
        // The journal entry goes in the same atomic call as the writes.
        const journal = { key: this.#checkpoint.journalKey, blob: Checkpoint.journalBlob(entries), ttlMs: CHECKPOINT_TTL_MS };
        await this.#settings.beforeWrite?.(ops);
        written = await this.#retrying(() => store.writeJournaled!(ops, envelope, journal));
      } else {
        const journaled = this.#retrying(() => this.#checkpoint.journal(entries));
        // On one connection the journal entry is applied before the writes sent after it;
        // otherwise (a cluster node) wait for it.
        if (store.connection !== this.#settings.control) await journaled;
        await this.#settings.beforeWrite?.(ops);
        written = await this.#retrying(() => store.write(ops, envelope));
        await journaled;
      }
      await this.#settings.afterWrite?.(ops);
    }
    const again: Pending[] = [];
    for (const [i, { op, from, attempt }] of planned.entries()) {
      if (written[i]) {
        this.#settle(op.key, op.op === "set" ? { decision: "migrated", from } : { decision: "deleted", from }, op.expected);
        continue;
      }
      this.#journal.delete(op.key);
      this.#settle(op.key, { decision: "conflict", from });
      if (attempt + 1 > this.#settings.maxRetries) {
        this.#settle(
          op.key,
          { decision: "failed", format: from, category: "still-changing", reason: `value changed or expired on each of ${attempt + 1} attempts` },
          op.expected,
        );
        continue;
      }
      this.#counters.retries += 1;
      again.push({ key: op.key, attempt: attempt + 1 });
    }
    return again;
  }

  /** Counts a key as found (on its first sighting only: a re-read after a conflict is the same key). */
  #seen(item: ReadItem, format: SeenFormat, attempt: number): void {
    if (attempt > 0) return;
    recordSeen(
      this.#counters,
      item.key,
      format,
      item.state === "absent" ? undefined : item.ttl,
      item.state === "value" ? item.value.length : item.state === "oversize" ? item.length : undefined,
    );
  }

  /**
   * The one place where a key's outcome is known: counted in the report, logged (failures,
   * deletions and conflicts always; the rest sampled), and a migration counted in the metrics.
   * `value` is the value as read, for the log's hash and masked preview (never the value).
   */
  #settle(key: string, outcome: KeyOutcome, value?: Buffer): void {
    const counters = this.#counters;
    switch (outcome.decision) {
      case "migrated":
        counters.migrated += 1;
        increment(counters.migratedFrom, outcome.from);
        if (!this.#settings.dryRun) this.#settings.metrics?.cacheMigrations.inc({ from: outcome.from });
        return this.#log.record("migrated", { key, format: outcome.from, value });
      case "deleted":
        counters.deleted += 1;
        return this.#log.record("deleted", { key, format: outcome.from, value });
      case "skipped":
        counters.skipped += 1;
        return this.#log.record("skipped", { key, format: "v2" });
      case "pickle-skipped":
        counters.pickleSkipped += 1;
        return this.#log.record("pickle-skipped", { key, format: "v1-pickle", reason: outcome.reason });
      case "expired":
        counters.expired += 1;
        return this.#log.record("expired", { key, format: "absent" });
      case "duplicate":
        counters.duplicates += 1;
        return this.#log.record("duplicate", { key, format: "v2" });
      case "failed":
        recordFailure(counters, outcome.category);
        return this.#log.record("failed", { key, format: outcome.format, reason: outcome.reason, value });
      case "conflict":
        counters.conflicts += 1;
        return this.#log.record("conflict", { key, format: outcome.from, reason: "value changed or expired since it was read" });
    }
  }

  /** Runs a Redis call, retrying transient failures with backoff (counted as retries). */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= this.#settings.maxRetries) {
          throw new Error(`Redis call failed ${attempt + 1} times (${(error as Error).message}); the checkpoint is intact: rerun the same command to resume.`, {
            cause: error,
          });
        }
        this.#counters.retries += 1;
        this.#settings.logger?.warn({ err: (error as Error).message, attempt: attempt + 1 }, "Redis call failed; retrying");
        await new Promise((r) => setTimeout(r, migrationRetryDelay(attempt)));
      }
    }
  }
}
