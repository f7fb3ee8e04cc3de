import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../shared/protocol/index.js";
import { applyHubMessage } from "../../shared/sdk/apply-hub-message.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { HubMessageKind, type HubMessage } from "../../shared/sdk/hub-messages.js";
import { emptySnapshot, type Snapshot } from "../../shared/sdk/snapshot.js";

// A crashed leader may have shown a message it had not yet stored with its position: the next
// leader resumes from the older position and the server replays it. Every tab's reducer must
// show it once and count it once.
const ME = { id: 1, username: "alice", displayName: "Alice", role: "user" };
const message = (id: number): ChatMessage => ({ id, from: 2, to: 1, body: `m${id}`, clientMsgId: null, createdAt: "2026-01-01T00:00:00Z", readAt: null });

describe("the snapshot reducer across a handover", () => {
  it("a replayed message (event, then the same event from the next leader) is shown and counted once", () => {
    const start: Snapshot = {
      ...emptySnapshot(),
      state: ConnectionState.open,
      user: ME,
      conversations: [{ peerId: 2, peerName: "Bob", lastMessage: null, unread: 0 }],
    };
    const first: HubMessage[] = [1, 2, 3].map((id) => ({ kind: HubMessageKind.message, message: message(id) }));
    const replay: HubMessage[] = [
      { kind: HubMessageKind.state, state: ConnectionState.connecting },
      { kind: HubMessageKind.state, state: ConnectionState.open },
      ...[2, 3, 4].map((id) => ({ kind: HubMessageKind.message, message: message(id) }) as HubMessage),
    ];
    const after = [...first, ...replay].reduce(applyHubMessage, start);
    expect(after.recent.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(after.unread).toBe(4);
    expect(after.conversations[0]).toMatchObject({ unread: 4, lastMessage: { id: 4 } });
  });

  it("a batch replayed whole is idempotent too", () => {
    const start: Snapshot = { ...emptySnapshot(), state: ConnectionState.open, user: ME };
    const batch: HubMessage = { kind: HubMessageKind.batch, messages: [5, 6].map((id) => ({ kind: HubMessageKind.message, message: message(id) })) };
    const once = applyHubMessage(start, batch);
    const twice = applyHubMessage(once, batch);
    expect(twice.recent).toEqual(once.recent);
    expect(twice.unread).toBe(once.unread);
  });
});
