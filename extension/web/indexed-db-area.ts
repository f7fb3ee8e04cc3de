import { createStore, del, get, set } from "idb-keyval";
import type { KeyValueArea } from "../../shared/hub/key-value-area.js";

/**
 * The origin's IndexedDB as a hub's storage area (idb-keyval: a small, well-kept key-value layer
 * over IndexedDB, so no hand-written transactions). The leader tab keeps the snapshot and stream
 * position here, so the next leader starts warm and resumes; sign-out overwrites it empty.
 */
export function indexedDbArea(databaseName = "switchboard", storeName = "hub"): KeyValueArea {
  const store = createStore(databaseName, storeName);
  return {
    get: (key) => get(key, store),
    set: (key, value) => set(key, value, store),
    remove: (key) => del(key, store),
  };
}
