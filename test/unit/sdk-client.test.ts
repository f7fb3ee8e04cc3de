import { BroadcastChannel } from "broadcast-channel";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { SwitchboardClient } from "../../shared/sdk/client.js";
import { extensionPageTransport, type PortLike } from "../../shared/sdk/extension-page-transport.js";
import { HubMessageKind, TabRequestKind, type HubMessage, type TabRequest } from "../../shared/sdk/hub-messages.js";
import { mergeMessage, type TabMessage } from "../../shared/sdk/merge-messages.js";
import { emptySnapshot } from "../../shared/sdk/snapshot.js";
import type { TabTransport } from "../../shared/sdk/tab-transport.js";

const message = (id: number, extra: Partial<TabMessage> = {}): TabMessage => ({
  id,
  from: 2,
  to: 1,
  body: `m${id}`,
  clientMsgId: null,
  createdAt: "2026-01-01T00:00:00Z",
  readAt: null,
  ...extra,
});

/** A transport whose hub is the test. */
function scriptedTransport() {
  const posted: TabRequest[] = [];
  const listeners = new Set<(message: HubMessage) => void>();
  const transport: TabTransport = {
    post: (request) => posted.push(request),
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => listeners.clear(),
  };
  return {
    transport,
    posted,
    push: (m: HubMessage) => {
      for (const listener of listeners) listener(m);
    },
  };
}

describe("tab SDK client", () => {
  it("says hello at once, holds the snapshot and applies pushed changes", async () => {
    const hub = scriptedTransport();
    const client = new SwitchboardClient(hub.transport, { newId: () => "id-1" });
    expect(hub.posted[0]?.kind).toBe(TabRequestKind.hello);
    hub.push({ kind: HubMessageKind.unread, count: 9 }); // before the baseline: ignored
    hub.push({ kind: HubMessageKind.snapshot, snapshot: { ...emptySnapshot(), state: ConnectionState.open } });
    expect((await client.ready()).state).toBe(ConnectionState.open);
    hub.push({ kind: HubMessageKind.unread, count: 3 });
    hub.push({ kind: HubMessageKind.message, message: message(5) });
    expect(client.snapshot).toMatchObject({ unread: 3, recent: [{ id: 5 }] });
  });

  it("a batch is applied in order and heard once, with the snapshot after all of it", async () => {
    const hub = scriptedTransport();
    const client = new SwitchboardClient(hub.transport, { newId: () => "id-1" });
    const heard: Array<[HubMessageKind, number, number[]]> = [];
    client.subscribe((m, snapshot) => heard.push([m.kind, snapshot.unread, snapshot.recent.map((r) => r.id)]));
    // The baseline may arrive inside a batch too: what came before it is skipped.
    hub.push({
      kind: HubMessageKind.batch,
      messages: [
        { kind: HubMessageKind.unread, count: 9 },
        {
          kind: HubMessageKind.snapshot,
          snapshot: { ...emptySnapshot(), state: ConnectionState.open, user: { id: 1, username: "a", displayName: "A", role: "user" } },
        },
      ],
    });
    hub.push({ kind: HubMessageKind.batch, messages: [message(5), message(6), message(7)].map((m) => ({ kind: HubMessageKind.message, message: m })) });
    expect(heard).toEqual([
      [HubMessageKind.batch, 0, []],
      [HubMessageKind.batch, 3, [5, 6, 7]],
    ]);
    expect(client.snapshot?.conversations).toMatchObject([{ peerId: 2, unread: 3, lastMessage: { id: 7 } }]);
    expect((await client.ready()).state).toBe(ConnectionState.open);
  });

  it("resolves its own replies, ignores other tabs' replies, and fails with advice on timeout", async () => {
    const hub = scriptedTransport();
    let next = 0;
    const client = new SwitchboardClient(hub.transport, { newId: () => `id-${next++}`, requestTimeoutMs: 50 });
    const pending = client.request(TabRequestKind.markRead, { peerId: 2, upToMessageId: 5 });
    hub.push({ kind: HubMessageKind.reply, requestId: "someone-else", ok: true, result: 1 });
    hub.push({ kind: HubMessageKind.reply, requestId: "id-1", ok: true, result: 0 });
    await expect(pending).resolves.toBe(0);
    await expect(client.request(TabRequestKind.useHere, {})).rejects.toThrow(/did not answer "use-here".*installed and enabled/);
    const failing = client.request(TabRequestKind.signIn, { username: "x", password: "y" });
    hub.push({ kind: HubMessageKind.reply, requestId: "id-3", ok: false, error: "Invalid username or password" });
    await expect(failing).rejects.toThrow("Invalid username or password");
  });
});

describe("mergeMessage", () => {
  it("a pending message becomes acked in place; duplicates (ack + event, replay) show once; order by id", () => {
    let list: TabMessage[] = [message(1), message(Number.MAX_SAFE_INTEGER, { clientMsgId: "c", pending: true, from: 1, to: 2 })];
    list = mergeMessage(list, message(3));
    list = mergeMessage(list, message(2, { clientMsgId: "c", from: 1, to: 2 }));
    list = mergeMessage(list, message(2, { clientMsgId: "c", from: 1, to: 2 }));
    list = mergeMessage(list, message(3));
    expect(list.map((m) => [m.id, Boolean(m.pending)])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
  });

  it("places an out-of-order message by id and keeps the others' identity", () => {
    const list = [message(1), message(3), message(Number.MAX_SAFE_INTEGER, { clientMsgId: "p", pending: true, from: 1, to: 2 })];
    const next = mergeMessage(list, message(2));
    expect(next.map((m) => m.id)).toEqual([1, 2, 3, Number.MAX_SAFE_INTEGER]);
    expect(next[0]).toBe(list[0]);
    expect(next[2]).toBe(list[1]);
    expect(list).toHaveLength(3); // the input is not changed
  });

  it("keeps the newest `max`", () => {
    const list = [1, 2, 3].reduce<ChatMessage[]>((acc, id) => mergeMessage(acc, message(id), 2), []);
    expect(list.map((m) => m.id)).toEqual([2, 3]);
  });
});

describe("extension page transport", () => {
  it("hears the hub on the BroadcastChannel, talks over a port, and says hello again after the worker dropped it", async () => {
    const name = `test-${Math.random()}`;
    const hubSide = new BroadcastChannel<HubMessage>(name, { type: "simulate" });
    const pageSide = new BroadcastChannel<HubMessage>(name, { type: "simulate" });
    const ports: Array<{ sent: unknown[]; disconnect: () => void }> = [];
    const connect = (): PortLike => {
      const disconnectListeners: Array<() => void> = [];
      const port = {
        sent: [] as unknown[],
        disconnect: () => {
          for (const listener of disconnectListeners) listener();
        },
      };
      ports.push(port);
      return {
        postMessage: (m) => port.sent.push(m),
        disconnect: () => undefined,
        onMessage: { addListener: () => undefined },
        onDisconnect: { addListener: (l) => disconnectListeners.push(l) },
      };
    };
    const client = new SwitchboardClient(extensionPageTransport({ connect, channel: pageSide, reconnectDelayMs: 5 }));
    expect((ports[0]!.sent[0] as TabRequest).kind).toBe(TabRequestKind.hello);

    await hubSide.postMessage({ kind: HubMessageKind.snapshot, snapshot: emptySnapshot() });
    await client.ready();
    ports[0]!.disconnect(); // the worker was stopped
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ports).toHaveLength(2);
    expect((ports[1]!.sent[0] as TabRequest).kind).toBe(TabRequestKind.hello);
    client.close();
    await hubSide.close();
  });
});
