import { RestPath } from "../../shared/protocol/index.js";
import { describe, expect, it } from "vitest";
import { ClientFrameType, EventKind, ServerFrameType, type EventFrame, type WelcomeFrame } from "../../shared/protocol/index.js";
import { api, connectChat, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("resume after a reconnect", () => {
  const t = useTestServer();

  it("replays exactly the missed events in order, then resumed {recovered:true}; a foreign epoch → recovered:false", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const first = connectChat(t.wsUrl, bob.user.id, { token: bob.accessToken });
    const welcome = await first.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
    first.send({ type: ClientFrameType.resume, epoch: welcome.epoch, seq: welcome.seq });
    await first.next((f) => f.type === ServerFrameType.resumed);
    await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: "m0", clientMsgId: "r-0" });
    const lastSeen = await first.next<EventFrame>((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.unread);
    await first.close();

    // While bob is away: 5 messages (each → message + unread events).
    for (let i = 1; i <= 5; i++) await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: `m${i}`, clientMsgId: `r-${i}` });

    const second = connectChat(t.wsUrl, bob.user.id, { token: bob.accessToken });
    second.send({ type: ClientFrameType.resume, epoch: lastSeen.epoch, seq: lastSeen.seq });
    const resumed = await second.next((f) => f.type === ServerFrameType.resumed);
    expect(resumed).toMatchObject({ recovered: true });
    const replayed = second.frames.filter((f): f is EventFrame => f.type === ServerFrameType.event);
    expect(replayed.map((f) => f.seq)).toEqual(Array.from({ length: 10 }, (_, i) => lastSeen.seq + 1 + i));
    expect(replayed.filter((f) => f.event.kind === EventKind.message).map((f) => f.event.kind === EventKind.message && f.event.message.body)).toEqual([
      "m1",
      "m2",
      "m3",
      "m4",
      "m5",
    ]);

    // Live delivery continues after the replay, with the next seq and no duplicates.
    await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: "live", clientMsgId: "r-live" });
    const live = await second.next<EventFrame>(
      (f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message && f.event.message.body === "live",
    );
    expect(live.seq).toBe(lastSeen.seq + 11);
    const seqs = second.frames.filter((f): f is EventFrame => f.type === ServerFrameType.event).map((f) => f.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    await second.close();

    const third = connectChat(t.wsUrl, bob.user.id, { token: bob.accessToken });
    third.send({ type: ClientFrameType.resume, epoch: "some-other-epoch", seq: 3 });
    expect(await third.next((f) => f.type === ServerFrameType.resumed)).toMatchObject({ recovered: false, epoch: lastSeen.epoch });
    await third.close();
  });

  it('nothing to resume (epoch ""): resumed {recovered:false} at the welcome\'s position, then what was held since', async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const socket = connectChat(t.wsUrl, bob.user.id, { token: bob.accessToken });
    const welcome = await socket.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
    // Sent after the welcome, before the resume: held for this socket.
    await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: "held", clientMsgId: "r-held" });
    socket.send({ type: ClientFrameType.resume, epoch: "", seq: 0 });
    expect(await socket.next((f) => f.type === ServerFrameType.resumed)).toEqual({
      type: ServerFrameType.resumed,
      recovered: false,
      epoch: welcome.epoch,
      seq: welcome.seq,
    });
    const held = await socket.next<EventFrame>((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message);
    expect(held.seq).toBe(welcome.seq + 1);
    expect(held.event.kind === EventKind.message && held.event.message.body).toBe("held");
    await socket.close();
  });
});
