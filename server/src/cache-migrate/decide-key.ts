import type { DecodeOutcome } from "../cache/decode-value.js";
import type { ValueFormat } from "../cache/detect-format.js";
import { MAX_INPUT_BYTES } from "../cache/limits.js";
import type { JournalEntry } from "./checkpoint.js";
import type { ReadItem, WriteOp } from "./key-store.js";
import type { SeenFormat } from "./report.js";

/** Why a value was kept rather than migrated: the keys of the report's `failedReasons`. */
export type FailureCategory = "oversize" | "non-string" | "pickle-rejected" | "unparseable" | "still-changing";

/**
 * What finally happened to one key. `MigrationRun` turns each into counters, a decision log
 * line and (for a migration) a metric in one place, `#settle`. `conflict` is the only one
 * that is not final: the key is read and decided again (or fails as `still-changing`).
 */
export type KeyOutcome =
  | { decision: "migrated"; from: ValueFormat }
  | { decision: "deleted"; from: ValueFormat }
  /** Already v2, not written by this run: left as is. */
  | { decision: "skipped" }
  | { decision: "pickle-skipped"; reason: string }
  /** Gone before it could be read or written: never recreated. */
  | { decision: "expired" }
  /** A v2 value this run wrote, returned again by SCAN: counted once. */
  | { decision: "duplicate" }
  | { decision: "failed"; format: SeenFormat; category: FailureCategory; reason: string }
  | { decision: "conflict"; from: ValueFormat };

export type KeyDecision =
  /** Compare-and-set (or compare-and-delete) `op`; its outcome is known after the write. */
  | { action: "write"; seen: SeenFormat; from: ValueFormat; op: WriteOp }
  /** Nothing to write; `seen` is the format to count the key under, null when not counted as a key again. */
  | { action: "settle"; seen: SeenFormat | null; outcome: KeyOutcome };

export interface KeyFacts {
  item: ReadItem;
  /** The decoded value, for an item in state `value`. */
  outcome: DecodeOutcome | undefined;
  /** What this run noted it wrote to this key on the page in progress, before a crash or a retry. */
  journaled: JournalEntry | undefined;
  /**
   * How every envelope this run writes ends (`,"created_at":"<the run's stamp>"}`): a v2 value
   * ending so was written by this run, since no other writer uses the stamp.
   */
  ownEnvelopeTail: Buffer;
}

export interface DecidePolicy {
  /** `--allow-pickle` was given (only changes why a pickle is skipped). */
  allowPickle: boolean;
  /** `--delete-unparseable`: an unparseable value is deleted (compare-and-delete) instead of kept. */
  deleteUnparseable: boolean;
}

/**
 * The migration tool's per-key decision: a pure function of what was read, how it decoded and
 * what the run journaled. The red lines are decided here: only a decoded user record is ever
 * written (as v2, keeping the TTL: the store's compare-and-set), a pickle the walker did not
 * accept is kept and never deleted, and nothing is deleted without `deleteUnparseable`.
 */
export function decideKey(facts: KeyFacts, policy: DecidePolicy): KeyDecision {
  const { item, journaled } = facts;
  switch (item.state) {
    case "absent":
      if (journaled?.result === "deleted") return settle(journaled.from as ValueFormat, { decision: "deleted", from: journaled.from as ValueFormat });
      return settle("absent", { decision: "expired" });
    case "oversize":
      return settle("oversize", {
        decision: "failed",
        format: "oversize",
        category: "oversize",
        reason: `${item.length} bytes, over the ${MAX_INPUT_BYTES}-byte read cap`,
      });
    case "non-string":
      return settle("non-string", { decision: "failed", format: "non-string", category: "non-string", reason: "not a string key" });
    case "value":
      break;
  }
  const { key, value } = item;
  const outcome = facts.outcome;
  if (!outcome) throw new Error(`decideKey: no decode outcome for the value of ${key}`); // the caller decodes every value first
  switch (outcome.kind) {
    case "data": {
      if (outcome.format !== "v2") {
        const json = outcome.json ?? Buffer.from(JSON.stringify(outcome.data)); // pickles have no JSON text
        // A v1 JSON value is wrapped verbatim: the store may then send its bytes once.
        const verbatim = json.buffer === value.buffer && json.byteOffset === value.byteOffset && json.length === value.length;
        return { action: "write", seen: outcome.format, from: outcome.format, op: { key, op: "set", expected: value, json: verbatim ? value : json } };
      }
      if (endsWith(value, facts.ownEnvelopeTail)) {
        // Written by this run before a crash or a retried call: count it once, as migrated.
        if (journaled?.result === "set") return settle(journaled.from as ValueFormat, { decision: "migrated", from: journaled.from as ValueFormat });
        return { action: "settle", seen: null, outcome: { decision: "duplicate" } };
      }
      return settle("v2", { decision: "skipped" });
    }
    case "not-decoded":
      return settle("v1-pickle", { decision: "pickle-skipped", reason: policy.allowPickle ? "prefix not allowlisted for pickle" : "--allow-pickle not given" });
    case "rejected":
      return settle("v1-pickle", { decision: "failed", format: "v1-pickle", category: "pickle-rejected", reason: outcome.reason });
    case "invalid":
      if (!policy.deleteUnparseable)
        return settle(outcome.format, { decision: "failed", format: outcome.format, category: "unparseable", reason: outcome.reason });
      return { action: "write", seen: outcome.format, from: outcome.format, op: { key, op: "delete", expected: value } };
  }
}

function settle(seen: SeenFormat, outcome: KeyOutcome): KeyDecision {
  return { action: "settle", seen, outcome };
}

function endsWith(value: Buffer, tail: Buffer): boolean {
  return value.length > tail.length && value.subarray(value.length - tail.length).equals(tail);
}
