import { describe, expect, it } from "vitest";
import {
  BEARER_PROTOCOL_PREFIX,
  ClientFrameType,
  EventKind,
  FrameErrorCode,
  RestPath,
  resumeProtocol,
  ServerFrameType,
  SUBPROTOCOL,
  type EventFrame,
  type LoginResponse,
  type ServerFrame,
  type WelcomeFrame,
} from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login, type ChatClient } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

/** A socket whose upgrade offers `resumeEntry` after the token, as the hub's connection does. */
function connectOffering(wsUrl: string, session: LoginResponse, resumeEntry: string): ChatClient {
  return connectChat(wsUrl, session.user.id, { protocols: [SUBPROTOCOL, BEARER_PROTOCOL_PREFIX + session.accessToken, resumeEntry] });
}

const isMessage = (body: string) => (f: ServerFrame) => f.type === ServerFrameType.event && f.event.kind === EventKind.message && f.event.message.body === body;

describe("resume carried in the upgrade (`resume.{epoch}.{seq}`)", () => {
  const t = useTestServer();

  it("replays what was missed right after the welcome, with no resume frame; live delivery follows without duplicates", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const first = await connectLive(t.wsUrl, bob);
    await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: "u0", clientMsgId: "u-0" });
    const lastSeen = await first.next<EventFrame>((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.unread);
    await first.close();
    for (let i = 1; i <= 3; i++) await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: `u${i}`, clientMsgId: `u-${i}` });

    const second = connectOffering(t.wsUrl, bob, resumeProtocol({ epoch: lastSeen.epoch, seq: lastSeen.seq })!);
    expect(await second.next((f) => f.type === ServerFrameType.resumed)).toEqual({
      type: ServerFrameType.resumed,
      recovered: true,
      epoch: lastSeen.epoch,
      seq: lastSeen.seq + 6,
    });
    expect(second.frames[0]).toMatchObject({ type: ServerFrameType.welcome, resuming: true });
    const replayed = second.frames.filter((f): f is EventFrame => f.type === ServerFrameType.event);
    expect(replayed.map((f) => f.seq)).toEqual(Array.from({ length: 6 }, (_, i) => lastSeen.seq + 1 + i));
    expect(replayed.flatMap((f) => (f.event.kind === EventKind.message ? [f.event.message.body] : []))).toEqual(["u1", "u2", "u3"]);

    await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: "live", clientMsgId: "u-live" });
    expect((await second.next<EventFrame>(isMessage("live"))).seq).toBe(lastSeen.seq + 7);
    const seqs = second.frames.filter((f): f is EventFrame => f.type === ServerFrameType.event).map((f) => f.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    await second.close();
  });

  it("`resume..0` (nothing to resume): resumed {recovered:false} at the welcome's position, then live events", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const socket = connectOffering(t.wsUrl, bob, resumeProtocol({ epoch: "", seq: 0 })!);
    const welcome = await socket.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
    expect(welcome.resuming).toBe(true);
    expect(await socket.next((f) => f.type === ServerFrameType.resumed)).toEqual({
      type: ServerFrameType.resumed,
      recovered: false,
      epoch: welcome.epoch,
      seq: welcome.seq,
    });
    await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: bob.user.id, body: "after", clientMsgId: "u-after" });
    expect((await socket.next<EventFrame>(isMessage("after"))).seq).toBe(welcome.seq + 1);
    await socket.close();
  });

  it("a malformed entry is ignored: the welcome does not say resuming, and a resume frame works as before", async () => {
    const bob = await login(t.url, "bob");
    for (const entry of ["resume.no-seq", `resume.${"e".repeat(65)}.1`, "resume.epoch.-1", "resume.epoch.01"]) {
      const socket = connectOffering(t.wsUrl, bob, entry);
      const welcome = await socket.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
      expect(welcome, entry).not.toHaveProperty("resuming");
      socket.send({ type: ClientFrameType.resume, epoch: "", seq: 0 });
      expect(await socket.next((f) => f.type === ServerFrameType.resumed)).toMatchObject({ recovered: false, epoch: welcome.epoch });
      expect(socket.frames.filter((f) => f.type === ServerFrameType.resumed)).toHaveLength(1);
      await socket.close();
    }
  });
});

describe("resume carried in the upgrade, over the resume budget", () => {
  const t = useTestServer({ RATE_LIMIT_RESUME_PER_S: "1", RATE_LIMIT_RESUME_BURST: "0" });

  it("spends the budget a resume frame would: refused, the welcome does not say resuming and the frame gets rate_limited", async () => {
    const bob = await login(t.url, "bob");
    const first = connectOffering(t.wsUrl, bob, resumeProtocol({ epoch: "", seq: 0 })!);
    await first.next((f) => f.type === ServerFrameType.resumed);
    await first.close();
    const second = connectOffering(t.wsUrl, bob, resumeProtocol({ epoch: "", seq: 0 })!);
    const welcome = await second.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
    expect(welcome).not.toHaveProperty("resuming");
    second.send({ type: ClientFrameType.resume, epoch: "", seq: 0 });
    expect(await second.next((f) => f.type === ServerFrameType.error)).toMatchObject({ code: FrameErrorCode.rateLimited });
    expect(second.frames.some((f) => f.type === ServerFrameType.resumed)).toBe(false);
    await second.close();
  });
});
