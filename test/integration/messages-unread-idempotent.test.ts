import { RestPath } from "../../shared/protocol/index.js";
import { describe, expect, it } from "vitest";
import { ClientFrameType, EventKind, ServerFrameType, type EventFrame } from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("messages and unread count", () => {
  const t = useTestServer();

  it("unread count comes from the auth principal alone, with no profile read", async () => {
    const bob = await login(t.url, "bob");
    const cacheReadsBefore = (await t.server.metrics.cacheReads.get()).values.reduce((s, v) => s + v.value, 0);
    const res = await api<{ unread_count: number }>(t.url, bob.accessToken, "GET", RestPath.unreadCount);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ unread_count: expect.any(Number) });
    const cacheReadsAfter = (await t.server.metrics.cacheReads.get()).values.reduce((s, v) => s + v.value, 0);
    expect(cacheReadsAfter).toBe(cacheReadsBefore);
  });

  it("a send is idempotent on clientMsgId; the recipient gets one message and one unread event", async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const bobSocket = await connectLive(t.wsUrl, bob);
    const before = (await api<{ unread_count: number }>(t.url, bob.accessToken, "GET", RestPath.unreadCount)).body.unread_count;

    const body = { to: bob.user.id, body: "hello once", clientMsgId: "idem-1" };
    const first = await api<{ message: { id: number } }>(t.url, alice.accessToken, "POST", RestPath.messages, body);
    const second = await api<{ message: { id: number } }>(t.url, alice.accessToken, "POST", RestPath.messages, body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.message.id).toBe(first.body.message.id);

    const unread = await bobSocket.next<EventFrame>((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.unread);
    expect(unread.event).toEqual({ kind: EventKind.unread, count: before + 1 });
    await new Promise((r) => setTimeout(r, 300));
    const messageEvents = bobSocket.frames.filter((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message);
    expect(messageEvents).toHaveLength(1);
    expect((await api<{ unread_count: number }>(t.url, bob.accessToken, "GET", RestPath.unreadCount)).body.unread_count).toBe(before + 1);

    // Over the socket too: the same clientMsgId acks the same message id.
    const aliceSocket = connectChat(t.wsUrl, alice.user.id, { token: alice.accessToken });
    await aliceSocket.next((f) => f.type === ServerFrameType.welcome);
    aliceSocket.send({ type: ClientFrameType.send, clientMsgId: "idem-1", to: bob.user.id, body: "hello once" });
    const ack = await aliceSocket.next((f) => f.type === ServerFrameType.ack);
    expect(ack).toMatchObject({ clientMsgId: "idem-1", messageId: first.body.message.id });

    // Mark read clears it and pushes the new count.
    const read = await api<{ unread_count: number }>(t.url, bob.accessToken, "POST", RestPath.messagesRead, {
      peerId: alice.user.id,
      upToMessageId: first.body.message.id,
    });
    expect(read.body.unread_count).toBe(before);
    await bobSocket.next((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.unread && f.event.count === before);

    const history = await api<{ messages: Array<{ body: string; readAt: string | null }> }>(
      t.url,
      bob.accessToken,
      "GET",
      `${RestPath.messages}?peerId=${alice.user.id}`,
    );
    expect(history.body.messages.filter((m) => m.body === "hello once")).toHaveLength(1);
    expect(history.body.messages.at(-1)!.readAt).not.toBeNull();
    await bobSocket.close();
    await aliceSocket.close();
  });

  it("rejects bad bodies with JSON errors and unknown recipients with 404", async () => {
    const alice = await login(t.url, "alice");
    expect((await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: "bob", body: "x" })).status).toBe(400);
    expect((await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: 2, body: "" })).status).toBe(400);
    expect((await api(t.url, alice.accessToken, "POST", RestPath.messages, { to: 2, body: "x".repeat(5000) })).status).toBe(400);
    const missing = await api<{ error: { code: string } }>(t.url, alice.accessToken, "POST", RestPath.messages, { to: 99999, body: "x" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    const huge = await fetch(`${t.url}/api/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ to: 2, body: "x".repeat(200_000) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({ error: { code: "payload_too_large", message: expect.any(String) } });
  });
});
