import type { HubSettings } from "../../../shared/hub/settings.js";

/** The worker's settings: build-time defaults, overridden from the options page. */
export type Settings = HubSettings;

/** `storage.local` key of the options page's overrides. */
export const SETTINGS_KEY = "settings";
