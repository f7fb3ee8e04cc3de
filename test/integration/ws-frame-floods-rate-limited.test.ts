import { describe, expect, it } from "vitest";
import { ClientFrameType, CloseCode, CloseReason, FrameErrorCode, ServerFrameType, type ErrorFrame, type WelcomeFrame } from "../../shared/protocol/index.js";
import { connectChat, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";
import { metric } from "../e2e/support/metrics.js";
import { DEFAULT_RATE_LIMITS } from "../../server/src/config.js";

// Issue 9, item 3: 10,000 pings got 10,000 pongs. Pings, reads and resumes spend per-user budgets
// too (the defaults); a flood of any of them gets `rate_limited` errors, then 4029.
const FLOOD = 500;

describe("ping, read and resume floods", () => {
  const t = useTestServer();

  it("ping: at most the budget in pongs, rate_limited errors, then 4029 Rate limited", async () => {
    const alice = await login(t.url, "alice");
    const client = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await client.next((f) => f.type === ServerFrameType.welcome);
    for (let i = 0; i < FLOOD; i++) client.send({ type: ClientFrameType.ping });
    expect(await client.closed).toEqual({ code: CloseCode.rateLimited, reason: CloseReason.rateLimited });
    const { perSecond, burst } = DEFAULT_RATE_LIMITS.ping;
    const pongs = client.frames.filter((f) => f.type === ServerFrameType.pong).length;
    expect(pongs).toBeGreaterThanOrEqual(perSecond + burst);
    expect(pongs).toBeLessThanOrEqual(2 * perSecond + burst);
    const refused = client.frames.filter((f): f is ErrorFrame => f.type === ServerFrameType.error && f.code === FrameErrorCode.rateLimited);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((f) => (f.retryAfterMs ?? 0) > 0)).toBe(true);
    expect(await metric(t, "switchboard_rate_limited_total", 'kind="ping",transport="ws"')).toBe(refused.length);
  });

  it("read: a flood of reads is limited and closed", async () => {
    const bob = await login(t.url, "bob");
    const alice = await login(t.url, "alice");
    const client = await connectLive(t.wsUrl, bob);
    for (let i = 0; i < FLOOD; i++) client.send({ type: ClientFrameType.read, peerId: alice.user.id, upToMessageId: i });
    expect(await client.closed).toEqual({ code: CloseCode.rateLimited, reason: CloseReason.rateLimited });
    expect(client.frames.some((f) => f.type === ServerFrameType.error && f.code === FrameErrorCode.rateLimited)).toBe(true);
    expect(await metric(t, "switchboard_rate_limited_total", 'kind="read",transport="ws"')).toBeGreaterThan(0);
  });

  it("resume: a flood of resumes gets at most the budget in replies, then 4029", async () => {
    const carol = await login(t.url, "carol");
    const client = connectChat(t.wsUrl, carol.user.id, { token: carol.accessToken });
    const welcome = await client.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
    for (let i = 0; i < FLOOD; i++) client.send({ type: ClientFrameType.resume, epoch: welcome.epoch, seq: 0 });
    expect(await client.closed).toEqual({ code: CloseCode.rateLimited, reason: CloseReason.rateLimited });
    const { perSecond, burst } = DEFAULT_RATE_LIMITS.resume;
    expect(client.frames.filter((f) => f.type === ServerFrameType.resumed).length).toBeLessThanOrEqual(2 * perSecond + burst);
    expect(await metric(t, "switchboard_rate_limited_total", 'kind="resume",transport="ws"')).toBeGreaterThan(0);
  });
});
