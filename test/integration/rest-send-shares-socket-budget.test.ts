import { describe, expect, it } from "vitest";
import { ClientFrameType, FrameErrorCode, RestErrorCode, RestPath, ServerFrameType, type AckFrame, type ErrorFrame } from "../../shared/protocol/index.js";
import { connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";
import { metric } from "../e2e/support/metrics.js";

// The REST send and the socket's `send` frames spend one per-user budget: a client cannot double
// its rate by alternating them. Small budgets so the test spends them in a few requests.
const PER_SECOND = 2;
const BURST = 3;

describe("the REST send shares the socket's send budget", () => {
  const t = useTestServer({ RATE_LIMIT_SEND_PER_S: String(PER_SECOND), RATE_LIMIT_SEND_BURST: String(BURST) });

  const restSend = (token: string, to: number, clientMsgId: string) =>
    fetch(`${t.url}${RestPath.messages}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ to, body: "hello", clientMsgId }),
    });

  it("429 rate_limited with Retry-After once the socket used the budget up; later it is accepted", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const socket = await connectLive(t.wsUrl, alice);
    for (let i = 0; i < PER_SECOND + BURST; i++) socket.send({ type: ClientFrameType.send, clientMsgId: `ws-${i}`, to: bob.user.id, body: "hi" });
    await socket.next<AckFrame>((f) => f.type === ServerFrameType.ack && f.clientMsgId === `ws-${PER_SECOND + BURST - 1}`);
    socket.send({ type: ClientFrameType.send, clientMsgId: "ws-over", to: bob.user.id, body: "hi" });
    expect(await socket.next<ErrorFrame>((f) => f.type === ServerFrameType.error && f.clientMsgId === "ws-over")).toMatchObject({
      code: FrameErrorCode.rateLimited,
    });

    const refused = await restSend(alice.accessToken, bob.user.id, "rest-1");
    expect(refused.status).toBe(429);
    expect((await refused.json()) as unknown).toMatchObject({ error: { code: RestErrorCode.rateLimited } });
    const retryAfterS = Number(refused.headers.get("retry-after"));
    expect(retryAfterS).toBeGreaterThanOrEqual(1);
    expect(await metric(t, "switchboard_rate_limited_total", 'kind="send",transport="rest"')).toBe(1);

    // Another user's budget is their own.
    expect((await restSend(bob.accessToken, alice.user.id, "bob-1")).status).toBe(201);

    // After Retry-After the same request is accepted (and stored once).
    await new Promise((resolve) => setTimeout(resolve, retryAfterS * 1000 + 50));
    expect((await restSend(alice.accessToken, bob.user.id, "rest-1")).status).toBe(201);
    await socket.close();
  });

  it("a REST burst spends the budget the socket then lacks", async () => {
    const carol = await login(t.url, "carol");
    const bob = await login(t.url, "bob");
    const statuses: number[] = [];
    for (let i = 0; i < PER_SECOND + BURST; i++) statuses.push((await restSend(carol.accessToken, bob.user.id, `c-${i}`)).status);
    expect(statuses.every((s) => s === 201)).toBe(true);
    const socket = await connectLive(t.wsUrl, carol);
    socket.send({ type: ClientFrameType.send, clientMsgId: "c-ws", to: bob.user.id, body: "hi" });
    const reply = await socket.next((f) => (f.type === ServerFrameType.error || f.type === ServerFrameType.ack) && f.clientMsgId === "c-ws");
    expect(reply).toMatchObject({ type: ServerFrameType.error, code: FrameErrorCode.rateLimited });
    await socket.close();
  });
});
