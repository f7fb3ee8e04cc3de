import type { Cluster, Redis } from "ioredis";
import { emptyCounters, type MigrationCounters } from "./report.js";

/**
 * Where a run is, kept in Redis so a run killed at any point can be started again and finish
 * without redoing work or counting anything twice.
 *
 * - `state` (a JSON string): per stream (node × prefix) the SCAN cursor of the next page, and
 *   the counters of every page before it. Written once per completed page.
 * - `journal` (a list, one JSON array per batch): for the page in progress, each key written,
 *   noted *before* the write as `[key, from format, "set" | "deleted"]`. A list of blobs costs
 *   Redis far less than a hash field per key. After a crash the page is scanned again; a key
 *   found as the journal predicts — gone, or v2 with this run's `created_at` stamp (no other
 *   writer uses it) — is counted as done by this run rather than as "already v2".
 *
 * Both keys share a hash tag, so the commit (state + journal cleared) is one MULTI, also on
 * Redis Cluster.
 */
export interface StreamState {
  cursor: string;
  done: boolean;
}

export interface CheckpointState {
  version: 1;
  /** ISO time the run started; also the `created_at` of every envelope it writes. */
  stamp: string;
  streams: Record<string, StreamState>;
  counters: MigrationCounters;
  finished: boolean;
}

export interface JournalEntry {
  from: string;
  result: "set" | "deleted";
}

/** @default 7 days — a forgotten checkpoint expires by itself. */
export const CHECKPOINT_TTL_MS = 7 * 24 * 3600 * 1000;

export class Checkpoint {
  readonly stateKey: string;
  readonly journalKey: string;

  constructor(
    private readonly redis: Redis | Cluster,
    runId: string,
  ) {
    const tag = `{${runId}}`;
    this.stateKey = `switchboard:cache-migrate:${tag}:state`;
    this.journalKey = `switchboard:cache-migrate:${tag}:journal`;
  }

  static fresh(now = new Date()): CheckpointState {
    return { version: 1, stamp: now.toISOString(), streams: {}, counters: emptyCounters(), finished: false };
  }

  /** The unfinished run to resume, or null. */
  async load(): Promise<CheckpointState | null> {
    const text = await this.redis.get(this.stateKey);
    if (!text) return null;
    const state = JSON.parse(text) as CheckpointState;
    if (state.version !== 1 || state.finished) return null;
    state.counters = { ...emptyCounters(), ...state.counters };
    return state;
  }

  async loadJournal(): Promise<Map<string, JournalEntry>> {
    const journal = new Map<string, JournalEntry>();
    for (const blob of await this.redis.lrange(this.journalKey, 0, -1)) {
      for (const [key, from, result] of JSON.parse(blob) as [string, string, JournalEntry["result"]][]) journal.set(key, { from, result });
    }
    return journal;
  }

  /** One journal blob: what `loadJournal` reads back. */
  static journalBlob(entries: [key: string, entry: JournalEntry][]): string {
    return JSON.stringify(entries.map(([key, entry]) => [key, entry.from, entry.result]));
  }

  /**
   * Notes the writes about to be made (before making them). A store on the same Redis may
   * instead append `journalBlob(entries)` to `journalKey` in the same atomic call as the writes.
   */
  async journal(entries: [key: string, entry: JournalEntry][]): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.multi().rpush(this.journalKey, Checkpoint.journalBlob(entries)).pexpire(this.journalKey, CHECKPOINT_TTL_MS).exec();
  }

  /** The state as committed: taken when a page ends, so later counting cannot leak into it. */
  static serialize(state: CheckpointState): string {
    return JSON.stringify(state);
  }

  /** Commits a finished page: the new state (`serialize`d), and the journal cleared, atomically. */
  async commit(snapshot: string): Promise<void> {
    const results = await this.redis.multi().set(this.stateKey, snapshot, "PX", CHECKPOINT_TTL_MS).del(this.journalKey).exec();
    for (const [error] of results ?? []) if (error) throw error;
  }

  async clear(): Promise<void> {
    await this.redis.del(this.stateKey);
    await this.redis.del(this.journalKey);
  }
}
