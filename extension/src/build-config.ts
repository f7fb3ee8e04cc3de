import type { Settings } from "./background/settings.js";

/** Injected by `define` in extension/vite.config.ts from SWITCHBOARD_* env vars at build time. */
declare const __SWITCHBOARD_BUILD__: Settings;

export const buildDefaults: Settings = __SWITCHBOARD_BUILD__;
