import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BEARER_PROTOCOL_PREFIX,
  ClientFrameType,
  CloseCode,
  CloseReason,
  FrameErrorCode,
  ServerFrameType,
  SUBPROTOCOL,
  WS_PATH_PREFIX,
  type AckFrame,
  type ChatMessage,
  type ErrorFrame,
  type ServerFrame,
} from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";
import { metric } from "../e2e/support/metrics.js";
import { DEFAULT_RATE_LIMITS, loadConfig } from "../../server/src/config.js";

// Issue 9, item 3: 10,000 `send` frames in one burst were all stored and another user's
// ping→pong p99 went from 5 ms to 849 ms. Now the flood spends the sender's budget (default
// send limits), gets `rate_limited` errors, is closed with 4029, and the other user is served.
const FLOOD = 10_000;
/** `RATE_LIMIT_MAX_REFUSED`'s default: refused frames within 10 s before the close. */
const MAX_REFUSED = loadConfig({}).rateLimitMaxRefused;
/**
 * Far above a healthy ping→pong on loopback (a few ms), below what the unlimited flood caused: 849
 * ms p99 and 2.9 s max in the issue, 3.4 s max in this test with the send budget off. Generous
 * because on a CI machine shared by many suites (load average 20+ on 2 cores) even the bounded
 * work of a limited flood takes this process up to ~1.2 s of wall time; `bench:server` measures
 * the latency properly. What the server does with the flood is pinned exactly below instead.
 */
const GENEROUS_PONG_BOUND_MS = 2000;

describe("a send flood", () => {
  let t: TestServer;
  beforeAll(async () => {
    // The observer pings every 20 ms, above the default ping budget: raise it for this file only.
    t = await startTestServer({ RATE_LIMIT_PING_PER_S: "200" });
  });
  afterAll(async () => t?.stop());

  it("gets rate_limited errors then 4029; only the budget is stored; another user's pings stay fast", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const carol = await login(t.url, "carol");
    const observer = await connectLive(t.wsUrl, carol);

    const latencies: number[] = [];
    let observing = true;
    const observed = (async () => {
      while (observing) {
        const sentAt = performance.now();
        const count = observer.frames.length;
        observer.send({ type: ClientFrameType.ping });
        await observer.next((f) => f.type === ServerFrameType.pong && observer.frames.indexOf(f) >= count, 10_000);
        latencies.push(performance.now() - sentAt);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));

    // The flood comes from another thread, so this thread (the server's and the observer's) pays
    // only for what the server does with it.
    const flood = new Worker(new URL("../helpers/flood-client-worker.mjs", import.meta.url), {
      workerData: {
        url: `${t.wsUrl}${WS_PATH_PREFIX}${alice.user.id}`,
        protocols: [SUBPROTOCOL, BEARER_PROTOCOL_PREFIX + alice.accessToken],
        hello: JSON.stringify({ type: ClientFrameType.resume, epoch: "", seq: 0 }),
        readyType: ServerFrameType.resumed,
        frames: Array.from({ length: FLOOD }, (_, i) =>
          JSON.stringify({ type: ClientFrameType.send, clientMsgId: `flood-${i}`, to: bob.user.id, body: `m${i}` }),
        ),
      },
    });
    const { received, close } = await new Promise<{ received: string[]; close: { code: number; reason: string } }>((resolve) => flood.once("message", resolve));
    await flood.terminate();
    const flooderFrames = received.map((text) => JSON.parse(text) as ServerFrame);
    await new Promise((resolve) => setTimeout(resolve, 300));
    observing = false;
    await observed;

    expect(close).toEqual({ code: CloseCode.rateLimited, reason: CloseReason.rateLimited });
    // Reconnecting at once to flood again (ignoring the cooldown the close asks for) is refused
    // at the upgrade, before any authentication or frame.
    const again = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await expect(again.opened).rejects.toMatchObject({ statusCode: 429 });
    expect(await metric(t, "switchboard_rate_limited_total", 'kind="connect",transport="ws"')).toBe(1);
    const acks = flooderFrames.filter((f): f is AckFrame => f.type === ServerFrameType.ack);
    const refused = flooderFrames.filter((f): f is ErrorFrame => f.type === ServerFrameType.error && f.code === FrameErrorCode.rateLimited);
    const budget = DEFAULT_RATE_LIMITS.send;
    // One second's rate plus the burst, and at most one more second's rate if the flood straddled a window.
    expect(acks.length).toBeGreaterThanOrEqual(budget.perSecond + budget.burst);
    expect(acks.length).toBeLessThanOrEqual(2 * budget.perSecond + budget.burst);
    // Bounded work: the frames queued behind the 21st refusal are dropped unread, not answered.
    expect(refused.length).toBe(MAX_REFUSED + 1);
    expect(refused.every((f) => typeof f.clientMsgId === "string" && (f.retryAfterMs ?? 0) > 0)).toBe(true);
    expect(await metric(t, "switchboard_ws_rate_limit_closes_total")).toBe(1);
    expect(await metric(t, "switchboard_rate_limited_total", 'kind="send",transport="ws"')).toBe(refused.length);

    // Nothing lost, nothing extra: exactly the acked messages were stored, once each.
    const history = await api<{ messages: ChatMessage[] }>(t.url, bob.accessToken, "GET", `/api/messages?peerId=${alice.user.id}&limit=200`);
    expect(history.body.messages.map((m) => m.clientMsgId).sort()).toEqual(acks.map((a) => a.clientMsgId).sort());
    const refusedIds = new Set(refused.map((f) => f.clientMsgId));
    expect(acks.some((a) => refusedIds.has(a.clientMsgId))).toBe(false);

    expect(latencies.length).toBeGreaterThan(10);
    expect(Math.max(...latencies)).toBeLessThan(GENEROUS_PONG_BOUND_MS);
    await observer.close();
  });
});
