/**
 * Names of the pipes between the hub and the tabs. How tabs hear the hub: docs/architecture.md#the-browser-side.
 * - Extension pages (app tab, popup, side panel) hear the hub on a BroadcastChannel and talk to it
 *   over a `runtime.connect` port (a port also wakes a stopped service worker; a channel does not).
 * - Web-app tabs talk through the content script's port, re-posted into the page with
 *   `window.postMessage(msg, location.origin)`.
 */
export const HUB_CHANNEL_NAME = "switchboard-hub";

export const PortName = {
  extensionPage: "switchboard-page",
  contentScript: "switchboard-content",
} as const;
export type PortName = (typeof PortName)[keyof typeof PortName];

/** Tag of `window.postMessage` envelopes, and which way each one goes. */
export const WINDOW_ENVELOPE_TAG = "switchboard";
export const WindowDirection = {
  toHub: "to-hub",
  fromHub: "from-hub",
} as const;
export type WindowDirection = (typeof WindowDirection)[keyof typeof WindowDirection];

export interface WindowEnvelope<T> {
  [WINDOW_ENVELOPE_TAG]: WindowDirection;
  payload: T;
}

export function isWindowEnvelope(data: unknown, direction: WindowDirection): data is WindowEnvelope<unknown> {
  return typeof data === "object" && data !== null && (data as Record<string, unknown>)[WINDOW_ENVELOPE_TAG] === direction;
}

export function windowEnvelope<T>(direction: WindowDirection, payload: T): WindowEnvelope<T> {
  return { [WINDOW_ENVELOPE_TAG]: direction, payload };
}
