import type { Settings } from "./background/settings.js";

/** Injected by `define` in extension/vite.config.ts from SWITCHBOARD_* env vars at build time. */
declare const __SWITCHBOARD_BUILD__: Settings;

export const buildDefaults: Settings = __SWITCHBOARD_BUILD__;

declare const __SWITCHBOARD_EXTRA_WEB_ORIGINS__: string[];

/** Match patterns the content script joins besides the configured server's origin (`SWITCHBOARD_WEB_ORIGINS`). */
export const extraWebOrigins: readonly string[] = __SWITCHBOARD_EXTRA_WEB_ORIGINS__;
