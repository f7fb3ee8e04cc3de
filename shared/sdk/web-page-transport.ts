import { isWindowEnvelope, windowEnvelope, WindowDirection } from "./bridge.js";
import type { HubMessage } from "./hub-messages.js";
import type { TabTransport } from "./tab-transport.js";

/**
 * Web-app tabs: the extension's content script relays between its port and this page with
 * `window.postMessage(…, location.origin)`. Only same-window, same-origin envelopes are trusted.
 */
export function webPageTransport(target: Window = window): TabTransport {
  const origin = target.location.origin;
  const listeners = new Set<(message: HubMessage) => void>();
  const onMessage = (event: MessageEvent) => {
    if (event.source !== target || event.origin !== origin) return;
    if (!isWindowEnvelope(event.data, WindowDirection.fromHub)) return;
    for (const listener of listeners) listener(event.data.payload as HubMessage);
  };
  target.addEventListener("message", onMessage);
  return {
    post(request) {
      target.postMessage(windowEnvelope(WindowDirection.toHub, request), origin);
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      target.removeEventListener("message", onMessage);
    },
  };
}
