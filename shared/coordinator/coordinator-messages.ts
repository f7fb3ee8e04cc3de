import type { HubMessage, TabRequest } from "../sdk/hub-messages.js";

/**
 * What web-app tabs without the extension say to each other on the origin's BroadcastChannel.
 * One tab, the elected leader, runs the hub; the others are followers. Kinds are `as const`
 * so no side writes a literal.
 */
export const COORDINATOR_CHANNEL_NAME = "switchboard-tabs";
/** The channel whose leader election (Web Locks where the browser has them) picks the hub's tab. */
export const ELECTION_CHANNEL_NAME = "switchboard-election";

export const CoordinatorMessageKind = {
  /** Leader → tabs: a hub message; `to` names the one tab a direct reply is for. */
  hub: "hub",
  /** Follower → leader: a tab request (send, read, profile update, use-here, sign-in/out, hello). */
  request: "request",
  /** Leader → followers, every `HEARTBEAT_MS`: "I am alive and lead term `term`". */
  heartbeat: "heartbeat",
  /** A tab the extension serves → everyone: a leader steps down, no tab stands for election. */
  extensionPresent: "extension-present",
} as const;
export type CoordinatorMessageKind = (typeof CoordinatorMessageKind)[keyof typeof CoordinatorMessageKind];

export type CoordinatorMessage =
  | { kind: typeof CoordinatorMessageKind.hub; term: number; leaderId: string; to?: string; message: HubMessage }
  | { kind: typeof CoordinatorMessageKind.request; from: string; request: TabRequest }
  | { kind: typeof CoordinatorMessageKind.heartbeat; term: number; leaderId: string }
  | { kind: typeof CoordinatorMessageKind.extensionPresent; from: string };
