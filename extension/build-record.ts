import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Plugin } from "vite";
import type { BuildEnv } from "./build-env.js";

/**
 * What an extension build was made with, written beside its folder (`dist/extension` →
 * `dist/extension.build.json`, outside the extension itself so it never ships). `npm start`
 * reads it to rebuild only what is stale and never to overwrite a build made with other
 * settings (e.g. for another server URL); the start banner prints it.
 */
export interface BuildRecord {
  settings: BuildEnv;
  /** `production` (unpacked, development hosts) or `store` (`npm run package:extension`). */
  mode: string;
  version: string;
  builtAt: string;
}

export const buildRecordPath = (outDir: string) => `${path.resolve(outDir)}.build.json`;

export function readBuildRecord(outDir: string): BuildRecord | null {
  try {
    return JSON.parse(readFileSync(buildRecordPath(outDir), "utf8")) as BuildRecord;
  } catch {
    return null;
  }
}

/** Same settings → the same extension (key order does not matter). */
export function sameSettings(a: BuildEnv, b: BuildEnv): boolean {
  const canonical = (env: BuildEnv) =>
    JSON.stringify(
      Object.keys(env)
        .sort()
        .map((key) => [key, env[key as keyof BuildEnv]]),
    );
  return canonical(a) === canonical(b);
}

export function buildRecordPlugin(record: Omit<BuildRecord, "builtAt">): Plugin {
  let outDir = "";
  return {
    name: "switchboard-build-record",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      mkdirSync(path.dirname(outDir), { recursive: true });
      writeFileSync(buildRecordPath(outDir), `${JSON.stringify({ ...record, builtAt: new Date().toISOString() }, null, 2)}\n`);
    },
  };
}
