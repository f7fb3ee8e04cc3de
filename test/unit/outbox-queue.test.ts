import { describe, expect, it } from "vitest";
import {
  afterFailure,
  RETRY_AFTER_MAX_MS,
  classifyFailure,
  dueNow,
  enqueue,
  expire,
  FailureKind,
  nextAttemptAt,
  nextToSend,
  OutboxFullError,
  retried,
} from "../../shared/hub/outbox-queue.js";
import { parseRetryAfter } from "../../shared/hub/api.js";
import { OutboxState, type OutboxEntry } from "../../shared/sdk/outbox-entry.js";

const bounds = { maxMessages: 3, maxAgeMs: 60_000 };
const entry = (clientMsgId: string, to: number, overrides: Partial<OutboxEntry> = {}): OutboxEntry => ({
  clientMsgId,
  to,
  body: `body of ${clientMsgId}`,
  queuedAt: 1000,
  state: OutboxState.pending,
  attempts: 0,
  nextAttemptAt: 1000,
  ...overrides,
});

describe("outbox queue", () => {
  it("sends one message per conversation at a time, the oldest first", () => {
    const queue = [entry("a1", 1), entry("b1", 2), entry("a2", 1), entry("b2", 2)];
    expect(nextToSend(queue, 1000).map((e) => e.clientMsgId)).toEqual(["a1", "b1"]);
    expect(
      nextToSend(
        queue.slice(1).filter((e) => e.clientMsgId !== "b1"),
        1000,
      ).map((e) => e.clientMsgId),
    ).toEqual(["a2", "b2"]);
  });

  it("a conversation whose oldest message waits for its backoff sends nothing newer", () => {
    const queue = [entry("a1", 1, { nextAttemptAt: 5000 }), entry("a2", 1), entry("b1", 2)];
    expect(nextToSend(queue, 1000).map((e) => e.clientMsgId)).toEqual(["b1"]);
    expect(nextAttemptAt(queue.filter((e) => e.to === 1))).toBe(5000);
    expect(nextToSend(queue, 5000).map((e) => e.clientMsgId)).toEqual(["a1", "b1"]);
  });

  it("a failed message does not block the ones typed after it", () => {
    const queue = [entry("a1", 1, { state: OutboxState.failed }), entry("a2", 1)];
    expect(nextToSend(queue, 1000).map((e) => e.clientMsgId)).toEqual(["a2"]);
  });

  it("a head in flight is not counted as due (no timer spinning while it is being sent)", () => {
    const queue = [entry("a1", 1), entry("a2", 1)];
    expect(nextAttemptAt(queue, new Set(["a1"]))).toBeNull();
  });

  it("refuses a message beyond the maximum count with an error that says what to do", () => {
    const full = [entry("a", 1), entry("b", 1), entry("c", 1)];
    expect(() => enqueue(full, entry("d", 1), bounds)).toThrow(OutboxFullError);
    expect(() => enqueue(full, entry("d", 1), bounds)).toThrow(/3 messages are already waiting/);
  });

  it("the same clientMsgId queued twice (a tab re-sending to a new hub) is kept once", () => {
    expect(enqueue([entry("a", 1)], entry("a", 1), bounds)).toHaveLength(1);
  });

  it("a pending message older than the maximum age becomes failed with the reason", () => {
    const [old, young] = expire([entry("old", 1, { queuedAt: 0 }), entry("young", 1, { queuedAt: 50_000 })], 60_001, bounds);
    expect(old).toMatchObject({ state: OutboxState.failed, failure: expect.stringMatching(/Not sent within 1 minutes/) });
    expect(young!.state).toBe(OutboxState.pending);
  });

  it("4xx other than rate limiting and auth is permanent; network, 5xx, 429, 401, 403 are transient", () => {
    expect(classifyFailure(400)).toBe(FailureKind.permanent);
    expect(classifyFailure(404)).toBe(FailureKind.permanent);
    expect(classifyFailure(413)).toBe(FailureKind.permanent);
    for (const status of [undefined, 401, 403, 408, 429, 500, 502, 503]) expect(classifyFailure(status)).toBe(FailureKind.transient);
  });

  it("a transient failure backs off exponentially (at least the rate-limit window after a 429); a permanent one fails", () => {
    const first = afterFailure(entry("a", 1), { kind: FailureKind.transient, message: "503" }, 1000, 1);
    expect(first).toMatchObject({ state: OutboxState.pending, attempts: 1, nextAttemptAt: 2000 });
    const second = afterFailure(first, { kind: FailureKind.transient, message: "503" }, 2000, 1);
    expect(second.nextAttemptAt).toBe(4000);
    expect(afterFailure(entry("a", 1), { kind: FailureKind.transient, message: "slow down", status: 429 }, 0, 0).nextAttemptAt).toBe(10_000);
    // The server's own figure wins over the 10 s default, capped so a wrong one cannot park a message.
    expect(afterFailure(entry("a", 1), { kind: FailureKind.transient, message: "slow down", status: 429, retryAfterMs: 2500 }, 0, 0).nextAttemptAt).toBe(2500);
    expect(afterFailure(entry("a", 1), { kind: FailureKind.transient, message: "slow down", status: 429, retryAfterMs: 86_400_000 }, 0, 0).nextAttemptAt).toBe(
      RETRY_AFTER_MAX_MS,
    );
    expect(afterFailure(entry("a", 1), { kind: FailureKind.transient, message: "slow down", status: 429, retryAfterMs: 10 }, 0, 1).nextAttemptAt).toBe(1000);
    expect(afterFailure(entry("a", 1), { kind: FailureKind.permanent, message: "Body too long" }, 0, 0)).toMatchObject({
      state: OutboxState.failed,
      failure: "Body too long",
    });
  });

  it("Retry-After is read as delay-seconds or an HTTP date; anything else is ignored", () => {
    const now = Date.parse("2026-12-02T12:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Wed, 02 Dec 2026 12:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Wed, 02 Dec 2026 11:00:00 GMT", now)).toBe(0);
    for (const bad of [null, "", "soon", "-5", "1.5"]) expect(parseRetryAfter(bad, now)).toBeUndefined();
  });

  it("Retry makes a failed message pending and due at once; reconnecting makes waiting ones due", () => {
    const failed = entry("a", 1, { state: OutboxState.failed, failure: "x", attempts: 4 });
    expect(retried(failed, 9000)).toEqual({ ...entry("a", 1), queuedAt: 9000, nextAttemptAt: 9000 });
    expect(dueNow([entry("b", 1, { nextAttemptAt: 50_000 })], 2000)[0]!.nextAttemptAt).toBe(2000);
  });
});
