import { defineManifest } from "@crxjs/vite-plugin";
import { EXTENSION_PUBLIC_KEY } from "../shared/protocol/extension.js";
import { anyPortPattern, type BuildEnv } from "./build-env.js";

/** Manifest V3; `key` pins the extension id so the server can allow its origin by default. */
export function manifest(env: BuildEnv) {
  const hosts = [...new Set([anyPortPattern(env.serverUrl), "http://localhost/*", "http://127.0.0.1/*", ...env.webOrigins])];
  return defineManifest({
    manifest_version: 3,
    name: "Switchboard",
    version: "0.1.0",
    description: "One chat connection per browser, shared with every tab.",
    minimum_chrome_version: "116",
    key: EXTENSION_PUBLIC_KEY,
    background: { service_worker: "src/background/service-worker.ts", type: "module" },
    action: { default_popup: "src/pages/popup.html", default_title: "Switchboard" },
    options_page: "src/pages/options.html",
    side_panel: { default_path: "src/pages/app.html" },
    // `scripting`: the content script is registered at run time for the configured server's exact
    // origin (src/background/content-script-registration.ts), never for every port of a host.
    permissions: ["storage", "alarms", "sidePanel", "scripting"],
    host_permissions: hosts,
  });
}
