/**
 * The extension's service worker: the "master tab" that holds the browser's one WebSocket.
 * Chrome stops it whenever it likes, so every listener is registered
 * synchronously here at top level and all state is rebuilt from storage by `Hub.start`.
 */
import { BroadcastChannel } from "broadcast-channel";
import { HUB_CHANNEL_NAME, PortName } from "../../../shared/sdk/bridge.js";
import type { HubMessage, TabRequest } from "../../../shared/sdk/hub-messages.js";
import { browser, type Runtime } from "../browser.js";
import { buildDefaults, extraWebOrigins } from "../build-config.js";
import { contentScriptMatches } from "./content-script-matches.js";
import { registerContentScript } from "./content-script-registration.js";
import { browserArea } from "./browser-storage.js";
import type { SocketConstructor, Timers } from "../../../shared/hub/connection.js";
import { frameBatcher } from "../../../shared/hub/frame-batcher.js";
import { Hub } from "../../../shared/hub/hub.js";
import { storedTokens } from "../../../shared/hub/token-keeper.js";
import { SETTINGS_KEY, type Settings } from "./settings.js";
import { toolbarIconUpdater } from "./toolbar-icon.js";
import { NOTIFICATIONS_KEY, notificationId, notifier, peerOfNotification } from "./notifications.js";

const WAKE_ALARM = "switchboard-wake";
const session = browserArea(browser.storage.session);
const local = browserArea(browser.storage.local);
const channel = new BroadcastChannel<HubMessage>(HUB_CHANNEL_NAME);
const contentPorts = new Set<Runtime.Port>();
const pagePorts = new Set<Runtime.Port>();

const timers: Timers = { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as number) };

const updateToolbarIcon = toolbarIconUpdater((path) => void browser.action.setIcon({ path }));

/** The tabs that hold a port (web-app tabs and app pages in a tab; not the popup or side panel). */
function switchboardTabIds(): Set<number> {
  const ids = new Set<number>();
  for (const port of [...contentPorts, ...pagePorts]) if (port.sender?.tab?.id !== undefined) ids.add(port.sender.tab.id);
  return ids;
}

const notify = notifier({
  enabled: async () => (await browser.storage.local.get(NOTIFICATIONS_KEY))[NOTIFICATIONS_KEY] === true,
  switchboardFocused: async () => {
    const window = await browser.windows.getLastFocused({ populate: true }).catch(() => null);
    const active = window?.focused ? window.tabs?.find((tab) => tab.active) : undefined;
    return active?.id !== undefined && switchboardTabIds().has(active.id);
  },
  show: async (id, title, message) => {
    await browser.notifications.create(id, { type: "basic", iconUrl: browser.runtime.getURL("icons/connected-128.png"), title, message });
  },
  clear: async (id) => {
    await browser.notifications.clear(id);
  },
  shownIds: async () => Object.keys(await browser.notifications.getAll()),
});

// A click focuses the app on that conversation: an app page already open in a tab is brought to
// the front on it (navigated to `?peer=`), otherwise a new one opens.
browser.notifications.onClicked.addListener((id) => {
  const peerId = peerOfNotification(id);
  if (peerId === null) return;
  void browser.notifications.clear(notificationId(peerId));
  const url = browser.runtime.getURL(`src/pages/app.html?peer=${peerId}`);
  const appPage = browser.runtime.getURL("src/pages/app.html");
  const open = [...pagePorts].find((port) => port.sender?.tab?.id !== undefined && port.sender.url?.startsWith(appPage));
  const shown = open?.sender?.tab?.id !== undefined ? browser.tabs.update(open.sender.tab.id, { url, active: true }) : browser.tabs.create({ url });
  void shown.then((tab) => {
    if (tab?.windowId !== undefined) void browser.windows.update(tab.windowId, { focused: true });
  });
});

function broadcast(message: HubMessage): void {
  updateToolbarIcon(message);
  void hubReady.then((hub) => notify(message, hub.snapshot)).catch(() => undefined);
  void channel.postMessage(message);
  for (const port of contentPorts) port.postMessage(message);
}
/** Changes within one frame reach each tab as one message (one render), the first of a burst at once. */
const fanOut = frameBatcher(broadcast, timers);

function setBadge(count: number): void {
  void browser.action.setBadgeText({ text: count > 0 ? String(count) : "" });
}
// The color never changes: set once per worker start, not on every count.
void browser.action.setBadgeBackgroundColor({ color: "#d93025" });

async function currentSettings(): Promise<Settings> {
  const overrides = ((await local.get(SETTINGS_KEY)) as Partial<Settings> | undefined) ?? {};
  return { ...buildDefaults, ...overrides };
}

/** The content script joins the configured server's web app only (plus the build's extras). */
async function registerWebAppContentScript(): Promise<void> {
  const { serverUrl } = await currentSettings();
  await registerContentScript(browser.scripting, contentScriptMatches(serverUrl, extraWebOrigins)).catch((error: unknown) =>
    console.warn(`[switchboard] could not register the content script for ${serverUrl}: ${String(error)}`),
  );
}
void registerWebAppContentScript();

async function startHub(): Promise<Hub> {
  const settings = await currentSettings();
  return Hub.start({
    world: {
      WebSocket: WebSocket as unknown as SocketConstructor,
      timers,
      random: Math.random,
      isOnline: () => navigator.onLine,
      fetch: (input, init) => fetch(input, init),
      now: Date.now,
    },
    // The snapshot in `storage.session`, so a worker Chrome killed restarts warm; tokens in `storage.local`.
    snapshotArea: session,
    // Unsent messages in `storage.local`: they must outlive a browser restart, which clears `session`.
    outboxArea: local,
    tokens: storedTokens(local),
    settings,
    broadcast: fanOut,
    setBadge,
    log: (message) => console.info(`[switchboard] ${message}`),
  });
}

let hubReady = startHub();
const withHub = (use: (hub: Hub) => unknown) => void hubReady.then(use);
const updateTabCount = () => withHub((hub) => hub.setTabCount(contentPorts.size + pagePorts.size));

browser.runtime.onConnect.addListener((port) => {
  const ports = port.name === PortName.contentScript ? contentPorts : port.name === PortName.extensionPage ? pagePorts : null;
  if (!ports) return;
  ports.add(port);
  updateTabCount();
  port.onDisconnect.addListener(() => {
    ports.delete(port);
    updateTabCount();
  });
  port.onMessage.addListener((request) => {
    withHub((hub) =>
      hub.handleRequest(request as TabRequest, (reply) => {
        if (ports.has(port)) port.postMessage(reply);
      }),
    );
  });
});

// Settings changed on the options page: tokens belong to the old server, so sign out and restart.
// `storage.local.onChanged`, not `storage.onChanged`: the latter would also deliver every snapshot
// write to `storage.session` (old and new value, once per message) back to this worker.
browser.storage.local.onChanged.addListener((changes) => {
  if (!(SETTINGS_KEY in changes)) return;
  void registerWebAppContentScript();
  hubReady = hubReady.then(async (hub) => {
    await hub.dispose();
    return startHub();
  });
  updateTabCount();
});

// A stopped worker with no tab open is woken by this alarm and reconnects (module evaluation does).
browser.alarms.onAlarm.addListener(() => withHub(() => undefined));
void browser.alarms.get(WAKE_ALARM).then((alarm) => {
  if (!alarm) void browser.alarms.create(WAKE_ALARM, { periodInMinutes: 1 });
});

self.addEventListener("online", () => withHub((hub) => hub.setOnline(true)));
self.addEventListener("offline", () => withHub((hub) => hub.setOnline(false)));
browser.runtime.onInstalled.addListener(() => withHub(() => undefined));
browser.runtime.onStartup.addListener(() => withHub(() => undefined));
