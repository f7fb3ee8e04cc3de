import { crx } from "@crxjs/vite-plugin";
import react from "@vitejs/plugin-react";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { readBuildEnv } from "./build-env.js";
import { buildRecordPlugin } from "./build-record.js";
import { manifest } from "./manifest.config.js";

const env = readBuildEnv();
const root = fileURLToPath(new URL(".", import.meta.url));
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
const CONTENT_SCRIPT = "src/content/content-script.ts";

// The extension: `npm run build:extension` → dist/extension (load it unpacked);
// `npm run package:extension` builds with `--mode store` into its own folder and zips it.
export default defineConfig(({ mode }) => ({
  root,
  plugins: [
    react(),
    crx({
      manifest: manifest(env, { version, store: mode === "store" }),
      // One self-contained file, no dynamic-import loader: it runs at document_start as declared.
      contentScripts: { standaloneFiles: [CONTENT_SCRIPT] },
    }),
    buildRecordPlugin({ settings: env, mode, version }),
  ],
  define: {
    __SWITCHBOARD_BUILD__: JSON.stringify({
      serverUrl: env.serverUrl,
      keepaliveMs: env.keepaliveMs,
      profileFreshMs: env.profileFreshMs,
      backoffBaseMs: env.backoffBaseMs,
      outboxMaxMessages: env.outboxMaxMessages,
      outboxMaxAgeMs: env.outboxMaxAgeMs,
    }),
    __SWITCHBOARD_EXTRA_WEB_ORIGINS__: JSON.stringify(env.webOrigins),
  },
  build: {
    outDir: fileURLToPath(new URL("../dist/extension", import.meta.url)),
    emptyOutDir: true,
    rollupOptions: { input: { app: "src/pages/app.html" } },
  },
  logLevel: "warn",
}));
