import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientFrameType, EventKind, FrameErrorCode, ServerFrameType, type EventFrame, type ServerFrame } from "../../shared/protocol/index.js";
import { connectLive, login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

/**
 * Sends from several sockets are stored together (one statement per batch) and a socket's sends
 * are pipelined; a send the database rejects must fail alone, in its place, and not touch the
 * other sends of its batch — its sender's or another user's.
 */
const REJECTED_BODY = "rejected by the database";

describe("batched, pipelined sends", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    // A row the database itself rejects. (NUL, which Postgres text cannot hold, used to be the
    // example; it is refused at validation now, before it reaches the writer.)
    await t.server.db.query(`ALTER TABLE messages ADD CONSTRAINT test_rejects_one_body CHECK (body <> '${REJECTED_BODY}')`);
  });
  afterAll(async () => t?.stop());

  it("a bad send fails alone and in order; every other send (both senders) is acked, stored and delivered in order", async () => {
    const [alice, carol, bob] = await Promise.all(["alice", "carol", "bob"].map((name) => login(t.url, name)));
    const bobSocket = await connectLive(t.wsUrl, bob!);
    const aliceSocket = await connectLive(t.wsUrl, alice!);
    const carolSocket = await connectLive(t.wsUrl, carol!);
    const N = 40;
    const BAD = 17;
    for (let i = 0; i < N; i++) {
      // The CHECK constraint added above makes the database reject this one row.
      aliceSocket.send({ type: ClientFrameType.send, clientMsgId: `iso-a${i}`, to: bob!.user.id, body: i === BAD ? REJECTED_BODY : `a${i}` });
      carolSocket.send({ type: ClientFrameType.send, clientMsgId: `iso-c${i}`, to: bob!.user.id, body: `c${i}` });
    }
    const replies = (frames: ServerFrame[]) =>
      frames.filter((f) => f.type === ServerFrameType.ack || f.type === ServerFrameType.error).map((f) => ("clientMsgId" in f ? f.clientMsgId : undefined));
    await aliceSocket.next((f) => f.type === ServerFrameType.ack && f.clientMsgId === `iso-a${N - 1}`, 20_000);
    await carolSocket.next((f) => f.type === ServerFrameType.ack && f.clientMsgId === `iso-c${N - 1}`, 20_000);

    expect(replies(aliceSocket.frames)).toEqual(Array.from({ length: N }, (_, i) => `iso-a${i}`));
    expect(replies(carolSocket.frames)).toEqual(Array.from({ length: N }, (_, i) => `iso-c${i}`));
    const bad = aliceSocket.frames.find((f) => f.type === ServerFrameType.error);
    expect(bad).toMatchObject({ code: FrameErrorCode.internal, clientMsgId: `iso-a${BAD}` });
    const ackIds = (frames: ServerFrame[]) => frames.flatMap((f) => (f.type === ServerFrameType.ack ? [f.messageId] : []));
    for (const socket of [aliceSocket, carolSocket]) expect(ackIds(socket.frames)).toEqual([...ackIds(socket.frames)].sort((x, y) => x - y));

    const expected = [...Array.from({ length: N }, (_, i) => `a${i}`).filter((_, i) => i !== BAD), ...Array.from({ length: N }, (_, i) => `c${i}`)];
    await bobSocket.next((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message && f.event.message.body === `c${N - 1}`, 20_000);
    await bobSocket.next((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message && f.event.message.body === `a${N - 1}`, 20_000);
    const bodies = bobSocket.frames
      .filter((f): f is EventFrame => f.type === ServerFrameType.event && f.event.kind === EventKind.message)
      .map((f) => (f.event.kind === EventKind.message ? f.event.message.body : ""));
    expect(bodies.filter((b) => b.startsWith("a"))).toEqual(expected.filter((b) => b.startsWith("a")));
    expect(bodies.filter((b) => b.startsWith("c"))).toEqual(expected.filter((b) => b.startsWith("c")));
    // One unread event per stored message, none for the failed one.
    const counts = bobSocket.frames.flatMap((f) => (f.type === ServerFrameType.event && f.event.kind === EventKind.unread ? [f.event.count] : []));
    expect(counts).toHaveLength(expected.length);
    // The retry of the bad one, fixed, is stored once.
    aliceSocket.send({ type: ClientFrameType.send, clientMsgId: `iso-a${BAD}`, to: bob!.user.id, body: `a${BAD} fixed` });
    await aliceSocket.next((f) => f.type === ServerFrameType.ack && f.clientMsgId === `iso-a${BAD}`);
    await Promise.all([aliceSocket.close(), carolSocket.close(), bobSocket.close()]);
  }, 60_000);
});
