import type { ValueFormat } from "../cache/detect-format.js";

/**
 * The migration report: counters plus TTL / value-size histograms and top key prefixes.
 * Plain JSON, so it is checkpointed in Redis as is and printed with `--json`.
 */

/** What was found at a key, beyond the value formats: gone, too big to read, or not a string. */
export type SeenFormat = ValueFormat | "absent" | "oversize" | "non-string";

export const TTL_BUCKETS = ["no-ttl", "<1m", "1m-10m", "10m-1h", "1h-1d", "1d-7d", ">=7d"] as const;
export const SIZE_BUCKETS = ["0B", "<256B", "256B-1KB", "1KB-4KB", "4KB-16KB", "16KB-64KB", "64KB-1MB", "1MB-10MB", ">10MB"] as const;
export type TtlBucket = (typeof TTL_BUCKETS)[number];
type SizeBucket = (typeof SIZE_BUCKETS)[number];

/** Upper bounds (exclusive) of the TTL buckets after "no-ttl"; a TTL past the last is ">=7d". */
export const TTL_LIMITS_MS: readonly [number, TtlBucket][] = [
  [60e3, "<1m"],
  [600e3, "1m-10m"],
  [3600e3, "10m-1h"],
  [86400e3, "1h-1d"],
  [7 * 86400e3, "1d-7d"],
];
const SIZE_LIMITS: [number, SizeBucket][] = [
  [1, "0B"],
  [256, "<256B"],
  [1024, "256B-1KB"],
  [4096, "1KB-4KB"],
  [16384, "4KB-16KB"],
  [65536, "16KB-64KB"],
  [1 << 20, "64KB-1MB"],
  [10 << 20, "1MB-10MB"],
];

/** Beyond this many distinct prefixes the rest are counted under "(other)" (memory bound). */
const MAX_PREFIXES = 10_000;

export interface MigrationCounters {
  /**
   * Keys handled. A key SCAN returns twice within a page is handled once; across pages, a repeat
   * of a key this run migrated counts under `duplicates`, a repeat of an unchanged key again.
   */
  keys: number;
  /** Per detected format of the value as found. */
  formats: Partial<Record<SeenFormat, number>>;
  /** Rewritten as v2 (or, with --dry-run, would have been). */
  migrated: number;
  migratedFrom: Partial<Record<ValueFormat, number>>;
  /** Already v2: left as is. */
  skipped: number;
  /** Unparseable values deleted (only with --delete-unparseable). */
  deleted: number;
  /** Not migrated and kept: unparseable, rejected pickles, oversize, non-string. Reasons below. */
  failed: number;
  failedReasons: Record<string, number>;
  /** Pickles left untouched: --allow-pickle not given or prefix not allowlisted. */
  pickleSkipped: number;
  /** Key gone before it could be read or written (expired or deleted meanwhile): never recreated. */
  expired: number;
  /** Compare-and-set found a newer value (a concurrent write won): re-read and decided again. */
  conflicts: number;
  /** Re-attempts: conflicts re-read, and Redis calls repeated after a transient error. */
  retries: number;
  /** A v2 value this run itself wrote, seen again (SCAN may return a key twice). */
  duplicates: number;
  ttl: Record<TtlBucket, number>;
  size: Record<SizeBucket, number>;
  prefixes: Record<string, number>;
  /** Time spent migrating, summed over resumed invocations. */
  activeMs: number;
}

export interface MigrationReport extends Omit<MigrationCounters, "prefixes"> {
  dryRun: boolean;
  /** Every stream (node × prefix) was scanned to the end. */
  complete: boolean;
  resumed: boolean;
  keysPerSecond: number;
  topPrefixes: { prefix: string; keys: number }[];
}

const zeroes = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export function emptyCounters(): MigrationCounters {
  return {
    keys: 0,
    formats: {},
    migrated: 0,
    migratedFrom: {},
    skipped: 0,
    deleted: 0,
    failed: 0,
    failedReasons: {},
    pickleSkipped: 0,
    expired: 0,
    conflicts: 0,
    retries: 0,
    duplicates: 0,
    ttl: zeroes(TTL_BUCKETS),
    size: zeroes(SIZE_BUCKETS),
    prefixes: {},
    activeMs: 0,
  };
}

export function increment<K extends string>(record: Partial<Record<K, number>>, key: K, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

export function ttlBucket(pttlMs: number): TtlBucket {
  if (pttlMs < 0) return "no-ttl";
  return TTL_LIMITS_MS.find(([limit]) => pttlMs < limit)?.[1] ?? ">=7d";
}

export function sizeBucket(bytes: number): SizeBucket {
  return SIZE_LIMITS.find(([limit]) => bytes < limit)?.[1] ?? ">10MB";
}

/** `user:42` → `user:*`; `user:tmp:7` → `user:tmp:*` (everything up to the last `:`). */
export function keyPrefix(key: string): string {
  const at = key.lastIndexOf(":");
  return at < 0 ? "(no prefix)" : `${key.slice(0, at + 1)}*`;
}

/** Records a key as found: its format, TTL bucket (none for a key that is gone), size and prefix. */
export function recordSeen(counters: MigrationCounters, key: string, format: SeenFormat, ttl: TtlBucket | undefined, bytes: number | undefined): void {
  counters.keys += 1;
  increment(counters.formats, format);
  if (ttl !== undefined) increment(counters.ttl, ttl);
  if (bytes !== undefined) increment(counters.size, sizeBucket(bytes));
  const prefix = keyPrefix(key);
  const known = Object.hasOwn(counters.prefixes, prefix);
  increment(counters.prefixes, known || Object.keys(counters.prefixes).length < MAX_PREFIXES ? prefix : "(other)");
}

export function recordFailure(counters: MigrationCounters, reason: string): void {
  counters.failed += 1;
  increment(counters.failedReasons, reason);
}

export function buildReport(counters: MigrationCounters, meta: { dryRun: boolean; complete: boolean; resumed: boolean; top: number }): MigrationReport {
  const { prefixes, ...rest } = counters;
  const topPrefixes = Object.entries(prefixes)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, meta.top)
    .map(([prefix, keys]) => ({ prefix, keys }));
  const keysPerSecond = counters.activeMs > 0 ? Math.round((counters.keys / counters.activeMs) * 1000) : 0;
  return { ...rest, dryRun: meta.dryRun, complete: meta.complete, resumed: meta.resumed, keysPerSecond, topPrefixes };
}

function table(title: string, record: Record<string, number | undefined>): string[] {
  const entries = Object.entries(record).filter(([, n]) => n !== undefined) as [string, number][];
  if (entries.length === 0) return [`${title}: none`];
  const width = Math.max(...entries.map(([k]) => k.length));
  return [`${title}:`, ...entries.map(([k, n]) => `  ${k.padEnd(width)}  ${n}`)];
}

/** The human-readable report (stdout without `--json`). */
export function formatReport(report: MigrationReport): string {
  const verb = report.dryRun ? "would migrate" : "migrated";
  const lines = [
    `Cache migration ${report.complete ? "complete" : "INCOMPLETE (rerun the same command to resume)"}${report.dryRun ? " — DRY RUN, nothing written" : ""}${report.resumed ? " (resumed)" : ""}`,
    `keys ${report.keys}  ${verb} ${report.migrated}  skipped (already v2) ${report.skipped}  deleted ${report.deleted}  failed ${report.failed}`,
    `pickle skipped ${report.pickleSkipped}  expired ${report.expired}  conflicts ${report.conflicts}  retries ${report.retries}  duplicates ${report.duplicates}`,
    `${report.keysPerSecond} keys/s over ${(report.activeMs / 1000).toFixed(1)} s`,
    ...table("formats found", report.formats),
    ...table(`${verb} from`, report.migratedFrom),
    ...table("failed (kept) by reason", report.failedReasons),
    ...table("TTL", report.ttl),
    ...table("value size", report.size),
    ...table("top key prefixes", Object.fromEntries(report.topPrefixes.map((p) => [p.prefix, p.keys]))),
  ];
  return lines.join("\n");
}
