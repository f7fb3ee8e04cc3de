/**
 * Which pages the content script (the bridge between a web-app tab and this worker) joins.
 * Every page it joins can read the user's messages and send as the user, so by default it is
 * exactly one origin: the configured server's web app (`http://localhost:8080/*` — a match pattern
 * with a port matches that port only). More origins come only from the build setting
 * `SWITCHBOARD_WEB_ORIGINS`; the options page lists what is matched.
 *
 * The script is registered at run time (`chrome.scripting`), not in the manifest, because the
 * server URL can change on the options page and a manifest pattern would have to cover every
 * origin it might become.
 */
import type { Scripting } from "../browser.js";
import contentScriptFile from "../content/content-script.ts?script&iife";

export const CONTENT_SCRIPT_ID = "switchboard-web-app";

/** The part of `chrome.scripting` used here (injected, so the rule is testable without Chrome). */
export interface ContentScriptRegistry {
  getRegisteredContentScripts(filter: { ids: string[] }): Promise<Array<{ id: string }>>;
  registerContentScripts(scripts: Scripting.RegisteredContentScript[]): Promise<void>;
  updateContentScripts(scripts: Scripting.RegisteredContentScript[]): Promise<void>;
}

/** Register the content script for exactly `matches`, replacing an earlier registration. */
export async function registerContentScript(registry: ContentScriptRegistry, matches: string[]): Promise<void> {
  const script: Scripting.RegisteredContentScript = {
    id: CONTENT_SCRIPT_ID,
    matches,
    js: [contentScriptFile],
    runAt: "document_start",
    persistAcrossSessions: true,
  };
  const existing = await registry.getRegisteredContentScripts({ ids: [CONTENT_SCRIPT_ID] });
  if (existing.length > 0) await registry.updateContentScripts([script]);
  else await registry.registerContentScripts([script]);
}
