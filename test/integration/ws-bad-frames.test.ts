import { RestPath } from "../../shared/protocol/index.js";
import { describe, expect, it } from "vitest";
import { ClientFrameType, CloseCode, CloseReason, EventKind, FrameErrorCode, ServerFrameType } from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("bad frames", () => {
  const t = useTestServer({ WS_MAX_PAYLOAD_BYTES: "1024" });

  it("get an error frame (not JSON, unknown type, invalid fields, binary), a 1009 close when too big, and never disturb another user", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const bobSocket = await connectLive(t.wsUrl, bob);

    const attacker = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await attacker.next((f) => f.type === ServerFrameType.welcome);
    const errorCodes: string[] = [];
    const expectError = async (send: () => void, code: string) => {
      const seen = attacker.frames.length;
      send();
      const frame = await attacker.next((f) => f.type === ServerFrameType.error && attacker.frames.indexOf(f) >= seen);
      expect(frame).toMatchObject({ type: ServerFrameType.error, code, message: expect.any(String) });
      errorCodes.push(code);
    };
    await expectError(() => attacker.send("this is not json"), FrameErrorCode.badJson);
    await expectError(() => attacker.send('{"type":'), FrameErrorCode.badJson);
    await expectError(() => attacker.send("[]"), FrameErrorCode.invalidFrame);
    await expectError(() => attacker.send({ type: "launch-missiles" }), FrameErrorCode.unknownType);
    await expectError(() => attacker.send({ type: ClientFrameType.send, clientMsgId: "c", to: "bob", body: "x" }), FrameErrorCode.invalidFrame);
    await expectError(() => attacker.send({ type: ClientFrameType.send, clientMsgId: "c", to: 99999, body: "x" }), FrameErrorCode.notFound);
    await expectError(() => attacker.ws.send(Buffer.from([1, 2, 3]), { binary: true }), FrameErrorCode.binaryNotSupported);
    // Still usable after all of that.
    attacker.send({ type: ClientFrameType.ping });
    await attacker.next((f) => f.type === ServerFrameType.pong);

    // Over maxPayload: ws closes with 1009.
    attacker.send(JSON.stringify({ type: ClientFrameType.send, clientMsgId: "big", to: bob.user.id, body: "x".repeat(2000) }));
    const close = await attacker.closed;
    expect(close.code).toBe(CloseCode.messageTooBig);

    // Bob's socket was never disturbed: still open, still receives.
    expect(bobSocket.ws.readyState).toBe(bobSocket.ws.OPEN);
    const carol = await login(t.url, "carol");
    await api(t.url, carol.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: "still here?", clientMsgId: "bf-1" });
    await bobSocket.next((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message && f.event.message.body === "still here?");
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_ws_bad_frames_total\{code="bad_json"\} 2/);
    await bobSocket.close();
  });

  it("closes a socket that sends only garbage with 1008 Protocol error", async () => {
    const alice = await login(t.url, "alice");
    const client = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await client.next((f) => f.type === ServerFrameType.welcome);
    for (let i = 0; i < 25; i++) client.send("garbage");
    const close = await client.closed;
    expect(close).toEqual({ code: CloseCode.policyViolation, reason: CloseReason.protocolError });
  });
});
