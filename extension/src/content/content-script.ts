/**
 * Bridges a web-app tab to the service worker: a `runtime.connect` port on one side,
 * `window.postMessage(msg, location.origin)` on the other (a page-origin BroadcastChannel would
 * deliver everything twice when two tabs share an origin). If the worker is stopped the port
 * drops; reconnecting wakes it, and a hello fetches a fresh snapshot for the page.
 */
import { isWindowEnvelope, PortName, windowEnvelope, WindowDirection } from "../../../shared/sdk/bridge.js";
import { TabRequestKind, type TabRequest } from "../../../shared/sdk/hub-messages.js";
import { browser, type Runtime } from "../browser.js";

const RECONNECT_DELAY_MS = 200;
let port: Runtime.Port | null = null;
let connects = 0;

function connect(): Runtime.Port {
  const next = browser.runtime.connect({ name: PortName.contentScript });
  next.onMessage.addListener((message) => window.postMessage(windowEnvelope(WindowDirection.fromHub, message), location.origin));
  next.onDisconnect.addListener(() => {
    if (port !== next) return; // a port this script already replaced (a page restored from the back/forward cache)
    port = null;
    setTimeout(() => (port ??= connect()), RECONNECT_DELAY_MS);
  });
  // This script loads asynchronously, maybe after the page's own hello was posted: say hello on
  // every connect, so the page gets a snapshot either way (and a fresh one after a worker restart).
  next.postMessage({ kind: TabRequestKind.hello, requestId: `content-script-${++connects}`, params: {} } satisfies TabRequest);
  return next;
}

window.addEventListener("message", (event) => {
  if (event.source !== window || event.origin !== location.origin) return;
  if (!isWindowEnvelope(event.data, WindowDirection.toHub)) return;
  port ??= connect();
  port.postMessage(event.data.payload);
});

port = connect();
// Chromium closes an extension port when its page enters the back/forward cache, telling only the
// worker's end: restored, this script would keep posting into a dead port and the page would show
// what it left with, frozen. A fresh port's hello brings the current snapshot.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  const dead = port;
  port = connect();
  dead?.disconnect();
});
// Tell the page an extension is present before its first request times out.
document.documentElement.dataset.switchboardExtension = "1";
