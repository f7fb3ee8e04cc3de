import { describe, expect, it } from "vitest";
import { ClientFrameType, EventKind, ServerFrameType, type AckFrame, type EventFrame } from "../../shared/protocol/index.js";
import { connectChat, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("pipelined send frames", () => {
  const t = useTestServer();

  it("are stored, acked and delivered in the order they were sent", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const bobSocket = await connectLive(t.wsUrl, bob);
    const aliceSocket = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await aliceSocket.next((f) => f.type === ServerFrameType.welcome);
    const N = 50;
    for (let i = 0; i < N; i++) aliceSocket.send({ type: ClientFrameType.send, clientMsgId: `pipe-${i}`, to: bob.user.id, body: `n${i}` });
    await aliceSocket.next((f) => f.type === ServerFrameType.ack && f.clientMsgId === `pipe-${N - 1}`, 20_000);
    const acks = aliceSocket.frames.filter((f): f is AckFrame => f.type === ServerFrameType.ack);
    expect(acks.map((a) => a.clientMsgId)).toEqual(Array.from({ length: N }, (_, i) => `pipe-${i}`));
    expect(acks.map((a) => a.messageId)).toEqual([...acks.map((a) => a.messageId)].sort((x, y) => x - y));
    await bobSocket.next((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message && f.event.message.body === `n${N - 1}`, 20_000);
    const bodies = bobSocket.frames
      .filter((f): f is EventFrame => f.type === ServerFrameType.event && f.event.kind === EventKind.message)
      .map((f) => (f.event.kind === EventKind.message ? f.event.message.body : ""));
    expect(bodies).toEqual(Array.from({ length: N }, (_, i) => `n${i}`));
    await aliceSocket.close();
    await bobSocket.close();
  }, 60_000);
});
