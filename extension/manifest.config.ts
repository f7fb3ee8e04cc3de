import { defineManifest } from "@crxjs/vite-plugin";
import { EXTENSION_PUBLIC_KEY } from "../shared/protocol/extension.js";
import { anyPortPattern, type BuildEnv } from "./build-env.js";

const icons = (state: string) => Object.fromEntries([16, 32, 48, 128].map((size) => [size, `icons/${state}-${size}.png`]));

/**
 * Manifest V3. For development builds `key` pins the extension id so the server can allow its
 * origin by default, and localhost is a host on any port. A store build (`store`) has neither:
 * the Chrome Web Store refuses a manifest with `key` and assigns the id itself, and a published
 * extension needs only its own server.
 */
export function manifest(env: BuildEnv, build: { version: string; store?: boolean }) {
  const developmentHosts = build.store ? [] : ["http://localhost/*", "http://127.0.0.1/*"];
  const hosts = [...new Set([anyPortPattern(env.serverUrl), ...developmentHosts, ...env.webOrigins])];
  return defineManifest({
    manifest_version: 3,
    name: "Switchboard",
    version: build.version,
    description: "One chat connection per browser, shared with every tab.",
    minimum_chrome_version: "116",
    ...(build.store ? {} : { key: EXTENSION_PUBLIC_KEY }),
    icons: icons("connected"),
    background: { service_worker: "src/background/service-worker.ts", type: "module" },
    // The toolbar icon follows the connection (service worker: toolbar-icon.ts); signed out until it knows.
    action: { default_popup: "src/pages/popup.html", default_title: "Switchboard", default_icon: icons("signed-out") },
    options_page: "src/pages/options.html",
    side_panel: { default_path: "src/pages/app.html" },
    // `scripting`: the content script is registered at run time for the configured server's exact
    // origin (src/background/content-script-registration.ts), never for every port of a host.
    // `notifications`: desktop notifications, shown only once the user turns them on in Options.
    permissions: ["storage", "alarms", "sidePanel", "scripting", "notifications"],
    host_permissions: hosts,
  });
}
