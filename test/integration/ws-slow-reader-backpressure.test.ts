import { describe, expect, it } from "vitest";
import { ClientFrameType, CloseCode, CloseReason, EventKind, MAX_MESSAGE_BODY, ServerFrameType, type WelcomeFrame } from "../../shared/protocol/index.js";
import { connectChat, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";
import { metric, waitFor } from "../e2e/support/metrics.js";

// Issue 9, item 2: a client that keeps sending `resume` and never reads made every replay pile up
// in the server's memory. Now a socket holds at most WS_MAX_BUFFERED_BYTES (plus the frame that
// crossed it) before it is closed with 4002 "Slow consumer"; the test watches the server's own
// buffered-bytes gauge, not RSS.
const MAX_BUFFERED = 256 * 1024;
const HISTORY = 1000;
/** The largest event a replay sends: a message of MAX_MESSAGE_BODY characters plus its JSON. */
const LARGEST_FRAME = MAX_MESSAGE_BODY * 3 + 1024;

describe("a slow reader that keeps sending resume", () => {
  const t = useTestServer({
    WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
    RESUME_MAX_EVENTS: "100",
    HISTORY_MAX_LEN: String(HISTORY),
    // This file is about back-pressure alone: resumes are not rate limited here.
    RATE_LIMIT_RESUME_PER_S: "0",
  });

  it("is closed with 4002 Slow consumer; the buffered bytes stay under the cap; others are served", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    // A full history of large messages: every replay from seq 0 is ~4 MB.
    for (let i = 0; i < HISTORY; i++) {
      const message = {
        id: i + 1,
        from: bob.user.id,
        to: alice.user.id,
        body: "x".repeat(MAX_MESSAGE_BODY),
        clientMsgId: null,
        createdAt: new Date().toISOString(),
        readAt: null,
      };
      await t.server.sockets.publish(alice.user.id, { kind: EventKind.message, message });
    }

    const reader = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    const welcome = await reader.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
    reader.ws.pause(); // stops reading: the kernel buffers fill, then the server's

    let maxBuffered = 0;
    let closes = 0;
    for (let i = 0; i < 400 && closes === 0; i++) {
      reader.send({ type: ClientFrameType.resume, epoch: welcome.epoch, seq: 0 });
      if (i % 10 === 0) {
        maxBuffered = Math.max(maxBuffered, await metric(t, "switchboard_ws_buffered_bytes"));
        closes = await metric(t, "switchboard_ws_backpressure_closes_total");
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(async () => (await metric(t, "switchboard_ws_backpressure_closes_total")) === 1, 10_000, "a back-pressure close");
    maxBuffered = Math.max(maxBuffered, await metric(t, "switchboard_ws_buffered_bytes"));
    expect(maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED + LARGEST_FRAME);

    // Reading again within the close grace period, the client gets the documented close.
    reader.ws.resume();
    expect(await reader.closed).toEqual({ code: CloseCode.slowConsumer, reason: CloseReason.slowConsumer });
    await waitFor(async () => (await metric(t, "switchboard_ws_buffered_bytes")) === 0, 5000, "buffers released");

    // The server is fine: another user connects and gets a pong; alice can reconnect and resume.
    const other = await connectLive(t.wsUrl, bob);
    other.send({ type: ClientFrameType.ping });
    await other.next((f) => f.type === ServerFrameType.pong);
    await other.close();
    const again = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    again.send({ type: ClientFrameType.resume, epoch: welcome.epoch, seq: welcome.seq - 5 });
    expect(await again.next((f) => f.type === ServerFrameType.resumed)).toMatchObject({ recovered: true, seq: welcome.seq });
    expect(again.frames.filter((f) => f.type === ServerFrameType.event)).toHaveLength(5);
    await again.close();
  });
});
