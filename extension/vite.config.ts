import { crx } from "@crxjs/vite-plugin";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { readBuildEnv } from "./build-env.js";
import { manifest } from "./manifest.config.js";

const env = readBuildEnv();
const root = fileURLToPath(new URL(".", import.meta.url));

// The extension: `npm run build:extension` → dist/extension (load it unpacked).
export default defineConfig({
  root,
  plugins: [react(), crx({ manifest: manifest(env) })],
  define: {
    __SWITCHBOARD_BUILD__: JSON.stringify({
      serverUrl: env.serverUrl,
      keepaliveMs: env.keepaliveMs,
      profileFreshMs: env.profileFreshMs,
      backoffBaseMs: env.backoffBaseMs,
    }),
    __SWITCHBOARD_EXTRA_WEB_ORIGINS__: JSON.stringify(env.webOrigins),
  },
  build: {
    outDir: fileURLToPath(new URL("../dist/extension", import.meta.url)),
    emptyOutDir: true,
    rollupOptions: { input: { app: "src/pages/app.html" } },
  },
  logLevel: "warn",
});
