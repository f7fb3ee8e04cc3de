import { afterEach, describe, expect, it } from "vitest";
import { FrameErrorCode } from "../../shared/protocol/frames.js";
import { ApiError } from "../../shared/hub/api.js";
import { memoryArea } from "../../shared/hub/key-value-area.js";
import { SendRefusedError, type MessageSender } from "../../shared/hub/message-sender.js";
import { Outbox, OUTBOX_KEY } from "../../shared/hub/outbox.js";
import { OutboxFullError } from "../../shared/hub/outbox-queue.js";
import { SnapshotKeeper } from "../../shared/hub/snapshot-keeper.js";
import { OutboxState } from "../../shared/sdk/outbox-entry.js";
import { emptySnapshot } from "../../shared/sdk/snapshot.js";

// The outbox's draining over a scripted sender (the socket/REST send is MessageSender's job and
// tested in hub.test.ts): order per conversation, transient vs permanent, bounds, persistence.
type Outcome = "ok" | "network" | "503" | "400" | "refused" | "over-budget" | "over-budget-for-40ms" | "429-for-40ms" | "server-fault";

const outboxes: Outbox[] = [];
afterEach(() => {
  for (const outbox of outboxes.splice(0)) outbox.stop();
});

function harness(script: (clientMsgId: string, attempt: number) => Outcome, options: { maxMessages?: number } = {}) {
  const area = memoryArea();
  const attempts: string[] = [];
  const times: number[] = [];
  const counts = new Map<string, number>();
  const inFlight = new Set<number>();
  let overlapped = false;
  const sender = {
    async send(to: number, _body: string, clientMsgId: string) {
      if (inFlight.has(to)) overlapped = true; // two messages of one conversation at once
      inFlight.add(to);
      const attempt = (counts.get(clientMsgId) ?? 0) + 1;
      counts.set(clientMsgId, attempt);
      attempts.push(clientMsgId);
      times.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight.delete(to);
      const outcome = script(clientMsgId, attempt);
      if (outcome === "network") throw new TypeError("Failed to fetch");
      if (outcome === "503") throw new ApiError(503, "http_503", "unavailable");
      if (outcome === "400") throw new ApiError(400, "invalid_body", "Body is empty.");
      if (outcome === "refused") throw new SendRefusedError("Unknown recipient.");
      if (outcome === "over-budget") throw new SendRefusedError("Too many sends; retry later.", FrameErrorCode.rateLimited);
      if (outcome === "over-budget-for-40ms") throw new SendRefusedError("Too many sends; retry later.", FrameErrorCode.rateLimited, 40);
      if (outcome === "429-for-40ms") throw new ApiError(429, "rate_limited", "Too many messages sent", 40);
      if (outcome === "server-fault") throw new SendRefusedError("Message could not be sent; retry", FrameErrorCode.internal);
      return { id: 1, from: 1, to, body: "", clientMsgId, createdAt: "", readAt: null };
    },
  } as unknown as MessageSender;
  const timers = {
    setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
    clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
  };
  const keeper = new SnapshotKeeper({ area: memoryArea(), timers, broadcast: () => undefined }, emptySnapshot());
  const outbox = new Outbox(
    {
      area,
      sender,
      keeper,
      timers,
      now: Date.now,
      random: () => 0,
      userId: () => 1,
      bounds: { maxMessages: options.maxMessages ?? 100, maxAgeMs: 60_000 },
      backoffBaseMs: 10,
    },
    [],
  );
  outboxes.push(outbox);
  return { outbox, area, attempts, times, keeper, overlapped: () => overlapped };
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe("outbox draining", () => {
  it("stores before sending, sends each conversation in order one at a time, removes on success", async () => {
    const { outbox, area, attempts, overlapped } = harness(() => "ok");
    const first = outbox.add(2, "a", "a1");
    expect(area.data.get(OUTBOX_KEY)).toMatchObject({ userId: 1, entries: [{ clientMsgId: "a1" }] });
    await first;
    await Promise.all([outbox.add(2, "b", "a2"), outbox.add(3, "c", "b1"), outbox.add(2, "d", "a3")]);
    await until(() => outbox.entries.length === 0);
    expect(attempts.filter((id) => id.startsWith("a"))).toEqual(["a1", "a2", "a3"]);
    expect(overlapped()).toBe(false);
    expect(area.data.has(OUTBOX_KEY)).toBe(false);
  });

  it("retries transient failures (network, 503) with backoff, then delivers; later messages wait their turn", async () => {
    const { outbox, attempts } = harness((id, attempt) => (id === "a1" && attempt < 3 ? (attempt === 1 ? "network" : "503") : "ok"));
    await outbox.add(2, "a", "a1");
    await outbox.add(2, "b", "a2");
    await until(() => outbox.entries.length === 0);
    expect(attempts).toEqual(["a1", "a1", "a1", "a2"]);
  });

  it("the socket's 'over your budget' and 'server fault' refusals are transient: retried, never failed", async () => {
    const { outbox, attempts } = harness((id, attempt) => (id === "fault" && attempt === 1 ? "server-fault" : id === "busy" ? "over-budget" : "ok"));
    await outbox.add(2, "a", "fault");
    await until(() => outbox.entries.length === 0);
    expect(attempts).toEqual(["fault", "fault"]);
    await outbox.add(3, "b", "busy");
    await until(() => attempts.includes("busy"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Waits out the budget (at least RATE_LIMITED_RECONNECT_MIN_MS) instead of being marked failed.
    expect(outbox.entries.map((entry) => [entry.clientMsgId, entry.state])).toEqual([["busy", OutboxState.pending]]);
  });

  for (const told of ["over-budget-for-40ms", "429-for-40ms"] as const) {
    it(`a refusal that says when to come back (${told === "429-for-40ms" ? "Retry-After on a 429" : "the error frame's retryAfterMs"}) is retried then, not after the 10 s default`, async () => {
      const { outbox, attempts, times } = harness((_id, attempt) => (attempt === 1 ? told : "ok"));
      await outbox.add(2, "a", "told");
      await until(() => outbox.entries.length === 0);
      expect(attempts).toEqual(["told", "told"]);
      // The attempt returns 2 ms after it starts; the retry waits out the 40 ms the server named.
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(40);
    });
  }

  it("a 400 or the socket's refusal marks the message failed, not retried; Retry sends it again; Discard drops it", async () => {
    let fixed = false;
    const { outbox, attempts } = harness((id) => (id === "bad" && !fixed ? "400" : id === "refused" ? "refused" : "ok"));
    await outbox.add(2, "x", "bad");
    await outbox.add(3, "y", "refused");
    await until(() => outbox.entries.every((entry) => entry.state === OutboxState.failed));
    expect(outbox.entries.map((entry) => entry.failure)).toEqual(["Body is empty.", "Unknown recipient."]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attempts).toEqual(["bad", "refused"]);
    fixed = true;
    await outbox.retry("bad");
    await until(() => outbox.entries.length === 1);
    expect(attempts).toEqual(["bad", "refused", "bad"]);
    await outbox.discard("refused");
    expect(outbox.entries).toEqual([]);
  });

  it("refuses a message beyond the maximum count and keeps the queued ones", async () => {
    const { outbox } = harness(() => "network", { maxMessages: 2 });
    await outbox.add(2, "a", "a1");
    await outbox.add(2, "b", "a2");
    await expect(outbox.add(2, "c", "a3")).rejects.toThrow(OutboxFullError);
    expect(outbox.entries.map((entry) => entry.clientMsgId)).toEqual(["a1", "a2"]);
  });

  it("publishes every change to the snapshot's outbox for the tabs", async () => {
    const { outbox, keeper } = harness(() => "400");
    await outbox.add(2, "a", "a1");
    await until(() => keeper.snapshot.outbox[0]?.state === OutboxState.failed);
    await outbox.discard("a1");
    expect(keeper.snapshot.outbox).toEqual([]);
  });
});
