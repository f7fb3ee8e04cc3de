import type { KeyOutcome } from "./decide-key.js";
import type { Logger } from "../log/logger.js";
import { maskEmail, maskText } from "../log/mask.js";
import { valueLogFields } from "../cache/log-fields.js";

export type Decision = KeyOutcome["decision"];

/** Decisions that are always logged; the rest are sampled. */
const ALWAYS: ReadonlySet<Decision> = new Set(["failed", "deleted", "conflict"]);

/**
 * One log line per decision, masked here (so it holds with any pino logger): the key (e-mails
 * masked; user ids stay readable), the format, the reason (e-mails and phones masked), a hash of
 * the value (never the value) and a preview of at most 100 bytes with e-mails and phones masked.
 * Routine decisions are sampled (`sampleRate`, 10 % by default); failures, deletions and
 * conflicts are always logged.
 */
export class DecisionLog {
  constructor(
    private readonly logger: Logger | undefined,
    private readonly sampleRate = 0.1,
    private readonly random: () => number = Math.random,
    /** Sees every decision, sampled or not (the tool's Prometheus counters). */
    private readonly onDecision?: (decision: Decision, format: string) => void,
  ) {}

  record(decision: Decision, details: { key: string; format: string; value?: Buffer | undefined; reason?: string; from?: string }): void {
    this.onDecision?.(decision, details.format);
    if (!this.logger) return;
    const always = ALWAYS.has(decision);
    if (!always && this.random() >= this.sampleRate) return;
    const { value, key, reason, ...rest } = details;
    const fields = {
      decision,
      key: maskEmail(key),
      ...rest,
      ...(reason ? { reason: maskText(reason) } : {}),
      ...(value ? valueLogFields(value) : {}),
      sampled: !always,
    };
    if (decision === "failed") this.logger.warn(fields, "cache value not migrated");
    else this.logger.info(fields, `cache key ${decision}`);
  }
}
