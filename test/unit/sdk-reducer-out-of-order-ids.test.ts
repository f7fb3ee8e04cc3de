import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../shared/protocol/index.js";
import { applyHubMessage } from "../../shared/sdk/apply-hub-message.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { HubMessageKind, type HubMessage } from "../../shared/sdk/hub-messages.js";
import { emptySnapshot, RECENT_MESSAGES_MAX, type Snapshot } from "../../shared/sdk/snapshot.js";

// Each side's sends are stored by its own writer (the server's group commit keys lanes by sender),
// so when both write at once the peer's message can carry the lower id and still reach me after my
// own: it is new, not a replay, and must count as unread in its conversation.
const ME = { id: 1, username: "alice", displayName: "Alice", role: "user" };
const msg = (id: number, from: number, to: number): ChatMessage => ({
  id,
  from,
  to,
  body: `m${id}`,
  clientMsgId: from === 1 ? `c${id}` : null,
  createdAt: "2026-01-01T00:00:00Z",
  readAt: null,
});
const start: Snapshot = {
  ...emptySnapshot(),
  state: ConnectionState.open,
  user: ME,
  conversations: [{ peerId: 2, peerName: "Bob", lastMessage: null, unread: 0 }],
};

describe("the snapshot reducer with ids out of arrival order", () => {
  it("the peer's lower id after my own: unread in the conversation, my newer message stays the last one", () => {
    const messages: HubMessage[] = [
      { kind: HubMessageKind.ack, clientMsgId: "c106", message: msg(106, 1, 2) },
      { kind: HubMessageKind.message, message: msg(105, 2, 1) },
    ];
    const after = messages.reduce(applyHubMessage, start);
    expect(after.conversations[0]).toMatchObject({ unread: 1, lastMessage: { id: 106 } });
    expect(after.unread).toBe(1);
    expect(after.recent.map((m) => m.id)).toEqual([105, 106]);
  });

  it("the echo of my own message after the peer's newer one is a duplicate: nothing changes", () => {
    const messages: HubMessage[] = [
      { kind: HubMessageKind.ack, clientMsgId: "c106", message: msg(106, 1, 2) },
      { kind: HubMessageKind.message, message: msg(107, 2, 1) },
      { kind: HubMessageKind.message, message: msg(106, 1, 2) },
    ];
    const after = messages.reduce(applyHubMessage, start);
    expect(after.conversations[0]).toMatchObject({ unread: 1, lastMessage: { id: 107 } });
    expect(after.unread).toBe(1);
  });

  it("a replay older than everything a full recent list holds is still a duplicate", () => {
    const history: HubMessage[] = Array.from({ length: RECENT_MESSAGES_MAX + 10 }, (_, i) => ({ kind: HubMessageKind.message, message: msg(i + 1, 2, 1) }));
    const seen = history.reduce(applyHubMessage, start);
    const replayed = applyHubMessage(seen, { kind: HubMessageKind.message, message: msg(3, 2, 1) });
    expect(replayed.conversations).toBe(seen.conversations);
    expect(replayed.unread).toBe(seen.unread);
  });
});
