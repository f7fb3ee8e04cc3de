import { ConnectionState } from "../../../shared/sdk/connection-state.js";
import { flattenHubMessage, HubMessageKind, type HubMessage } from "../../../shared/sdk/hub-messages.js";

/** The three toolbar looks (icons drawn by scripts/extension-icons.ts). */
export type ToolbarIcon = "signed-out" | "connected" | "replaced";

/**
 * What the toolbar shows for a connection state: green while the socket is open, amber while
 * another window holds it (the user must click "Use here"), grey otherwise — signed out, or on
 * the way to a connection (connecting, backoff, offline, re-authentication).
 */
export function toolbarIconFor(state: ConnectionState): ToolbarIcon {
  if (state === ConnectionState.open) return "connected";
  if (state === ConnectionState.replaced) return "replaced";
  return "signed-out";
}

export function toolbarIconPaths(icon: ToolbarIcon): Record<string, string> {
  return Object.fromEntries([16, 32, 48, 128].map((size) => [String(size), `/icons/${icon}-${size}.png`]));
}

/** The connection state a hub message announces last, if any (a state change or a full snapshot). */
export function announcedState(message: HubMessage): ConnectionState | undefined {
  let state: ConnectionState | undefined;
  for (const change of flattenHubMessage(message)) {
    if (change.kind === HubMessageKind.state) state = change.state;
    else if (change.kind === HubMessageKind.snapshot) state = change.snapshot.state;
  }
  return state;
}

/** Sets the icon when the look changes (not on every message); returns the function to feed messages to. */
export function toolbarIconUpdater(setIcon: (paths: Record<string, string>) => void): (message: HubMessage) => void {
  let shown: ToolbarIcon | undefined;
  return (message) => {
    const state = announcedState(message);
    if (state === undefined) return;
    const icon = toolbarIconFor(state);
    if (icon === shown) return;
    shown = icon;
    setIcon(toolbarIconPaths(icon));
  };
}
