import type { Storage } from "webextension-polyfill";
import type { KeyValueArea } from "../../../shared/hub/key-value-area.js";

/** A `storage.session` / `storage.local` area as the worker's `KeyValueArea`. */
export function browserArea(area: Storage.StorageArea): KeyValueArea {
  return {
    async get(key) {
      return (await area.get(key))[key];
    },
    set: (key, value) => area.set({ [key]: value }),
    remove: (key) => area.remove(key),
  };
}
