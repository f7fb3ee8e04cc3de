import { describe, expect, it } from "vitest";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { HubMessageKind } from "../../shared/sdk/hub-messages.js";
import { emptySnapshot } from "../../shared/sdk/snapshot.js";
import { toolbarIconFor, toolbarIconUpdater } from "../../extension/src/background/toolbar-icon.js";

describe("toolbar icon", () => {
  it("is green when open, amber when replaced, grey otherwise", () => {
    expect(toolbarIconFor(ConnectionState.open)).toBe("connected");
    expect(toolbarIconFor(ConnectionState.replaced)).toBe("replaced");
    for (const state of [
      ConnectionState.signedOut,
      ConnectionState.connecting,
      ConnectionState.backoff,
      ConnectionState.offline,
      ConnectionState.authRequired,
    ]) {
      expect(toolbarIconFor(state)).toBe("signed-out");
    }
  });

  it("follows state changes, snapshots and batches, and sets the icon only when its look changes", () => {
    const set: string[] = [];
    const update = toolbarIconUpdater((paths) => set.push(paths["16"]!));
    update({ kind: HubMessageKind.snapshot, snapshot: { ...emptySnapshot(), state: ConnectionState.connecting } });
    update({ kind: HubMessageKind.state, state: ConnectionState.backoff }); // still grey: no call
    update({ kind: HubMessageKind.unread, count: 3 }); // no state: no call
    update({
      kind: HubMessageKind.batch,
      messages: [
        { kind: HubMessageKind.state, state: ConnectionState.connecting },
        { kind: HubMessageKind.state, state: ConnectionState.open },
      ],
    });
    update({ kind: HubMessageKind.state, state: ConnectionState.replaced });
    expect(set).toEqual(["/icons/signed-out-16.png", "/icons/connected-16.png", "/icons/replaced-16.png"]);
  });
});
