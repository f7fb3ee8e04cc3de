import { BroadcastChannel } from "broadcast-channel";
import { HUB_CHANNEL_NAME, PortName } from "./bridge.js";
import { TabRequestKind, type HubMessage, type TabRequest } from "./hub-messages.js";
import type { TabTransport } from "./tab-transport.js";

/** The part of `runtime.Port` this transport uses (injected: shared/ never imports the polyfill). */
export interface PortLike {
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(listener: (message: unknown) => void): void };
  onDisconnect: { addListener(listener: () => void): void };
}

export interface ExtensionPageTransportOptions {
  /** `(name) => browser.runtime.connect({ name })`. */
  connect: (name: string) => PortLike;
  /** @default a `broadcast-channel` BroadcastChannel named `HUB_CHANNEL_NAME` */
  channel?: BroadcastChannel<HubMessage>;
  /** Delay before reopening a port the service worker dropped (it was stopped). @default 200 */
  reconnectDelayMs?: number;
}

/**
 * Extension pages (app tab, popup, side panel): fan-out arrives on the BroadcastChannel; requests
 * and direct replies use a port, which also wakes a stopped service worker. When the port drops,
 * it is reopened and says hello again, so the page gets a fresh snapshot.
 */
export function extensionPageTransport(options: ExtensionPageTransportOptions): TabTransport {
  const listeners = new Set<(message: HubMessage) => void>();
  const channel = options.channel ?? new BroadcastChannel<HubMessage>(HUB_CHANNEL_NAME);
  const emit = (message: HubMessage) => {
    for (const listener of listeners) listener(message);
  };
  channel.onmessage = emit;
  let port: PortLike | null = null;
  let closed = false;
  let helloCount = 0;

  const open = (): PortLike => {
    const next = options.connect(PortName.extensionPage);
    next.onMessage.addListener((message) => emit(message as HubMessage));
    next.onDisconnect.addListener(() => {
      port = null;
      if (closed) return;
      setTimeout(() => {
        if (closed || port) return;
        port = open();
        port.postMessage({ kind: TabRequestKind.hello, requestId: `reconnect-${++helloCount}`, params: {} } satisfies TabRequest);
      }, options.reconnectDelayMs ?? 200);
    });
    return next;
  };

  return {
    post(request) {
      port ??= open();
      port.postMessage(request);
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      port?.disconnect();
      void channel.close();
    },
  };
}
