import type { SocketConstructor, Timers } from "../../shared/hub/connection.js";
import { Hub } from "../../shared/hub/hub.js";
import { SnapshotKeeper } from "../../shared/hub/snapshot-keeper.js";
import { memoryTokens } from "../../shared/hub/token-keeper.js";
import { CoordinatedTransport } from "../../shared/coordinator/coordinated-transport.js";
import { SwitchboardClient } from "../../shared/sdk/client.js";
import { indexedDbArea } from "./indexed-db-area.js";
import { webSettings } from "./web-settings.js";

const timers: Timers = { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as number) };
const log = (message: string) => console.info(`[switchboard] ${message}`);
/** `sessionStorage` key: this tab already reloaded once to let the extension's content script in. */
const RELOADED_FOR_EXTENSION = "switchboard-reloaded-for-extension";

/**
 * A tab SDK client for a web-app tab no extension serves: the tabs of this origin elect one
 * leader whose hub holds the socket (the thin adapter of the second home). The access token lives
 * only in that hub's memory; the refresh token is the server's HttpOnly cookie.
 */
export function coordinatedClient(): { client: SwitchboardClient; transport: CoordinatedTransport } {
  const area = indexedDbArea();
  const settings = webSettings(location);
  const transport = new CoordinatedTransport({
    locks: "locks" in navigator ? navigator.locks : undefined,
    timers,
    now: Date.now,
    random: Math.random,
    log,
    onExtension: () => {
      // Once per tab session: should the content script still not join after the reload (the
      // extension does not match this page), the tab keeps what it has instead of reloading again.
      if (sessionStorage.getItem(RELOADED_FOR_EXTENSION) !== null) return;
      sessionStorage.setItem(RELOADED_FOR_EXTENSION, "1");
      location.reload();
    },
    onRole: (leader) => {
      document.documentElement.dataset.switchboardLeader = String(leader);
    },
    lastKnownSnapshot: () => SnapshotKeeper.load(area),
    startHub: ({ broadcast, mayConnect }) =>
      Hub.start({
        world: {
          WebSocket: WebSocket as unknown as SocketConstructor,
          timers,
          random: Math.random,
          isOnline: () => navigator.onLine,
          fetch: (input, init) => fetch(input, init),
          now: Date.now,
        },
        snapshotArea: area,
        tokens: memoryTokens(),
        settings,
        broadcast,
        mayConnect,
        log,
      }),
  });
  // The leader's socket learns of a lost network at once (a link check) and comes back as soon as
  // the network does, instead of after the dead-link check (50 s) and the offline probe (≤ 5 s).
  addEventListener("offline", () => transport.setOnline(false));
  addEventListener("online", () => transport.setOnline(true));
  // `pagehide`, not `beforeunload`: it also fires when the page goes into the back/forward cache.
  addEventListener("pagehide", () => transport.close());
  // A page restored from that cache comes back with its transport closed (no socket, no channel,
  // not standing for election) while it still shows the state it left with: it starts afresh.
  // Nothing is lost: the session is the server's cookie, the outbox and the snapshot are in IndexedDB.
  addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    log("restored from the back/forward cache: reloading to rejoin the other tabs");
    location.reload();
  });
  return { client: new SwitchboardClient(transport), transport };
}
