/**
 * The build step of `npm start`: rebuilds the server, the web app and the extension only when
 * their sources are newer than their build, and never overwrites an extension build made with
 * other settings (e.g. `SWITCHBOARD_SERVER_URL` for another server) — it says so and leaves it.
 * `npm run build` still rebuilds everything.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readBuildEnv, type BuildEnv } from "../extension/build-env.js";
import { readBuildRecord, sameSettings } from "../extension/build-record.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SKIP = new Set(["node_modules", "dist", ".data", "test-artifacts", "test-results", "results"]);

/** Newest modification time under `paths` (files or folders, relative to `root`), in ms. */
function newestMtime(root: string, paths: string[]): number {
  let newest = 0;
  const visit = (entry: string) => {
    if (!existsSync(entry)) return;
    const stat = statSync(entry);
    if (stat.isDirectory()) {
      for (const name of readdirSync(entry)) if (!SKIP.has(name)) visit(path.join(entry, name));
    } else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const entry of paths) visit(path.join(root, entry));
  return newest;
}

const COMMON = ["package.json", "package-lock.json"];

interface Target {
  name: "server" | "web app" | "extension";
  script: string;
  output: string;
  inputs: string[];
}

const TARGETS: Target[] = [
  {
    name: "server",
    script: "build:server",
    output: "dist/server/src/main.js",
    inputs: ["server", "shared/protocol", "bench", "tsconfig.build.json", ...COMMON],
  },
  { name: "web app", script: "build:web", output: "dist/web/index.html", inputs: ["extension", "shared", ...COMMON] },
  { name: "extension", script: "build:extension", output: "dist/extension/manifest.json", inputs: ["extension", "shared", ...COMMON] },
];

export interface PlannedBuild {
  name: Target["name"];
  script: string;
  /** `build`: stale or missing; `fresh`: up to date; `kept`: stale, but built with other settings — left alone. */
  action: "build" | "fresh" | "kept";
  reason?: string;
}

/** Why the extension build may not be replaced, or undefined when it may. */
function extensionKept(root: string, current: BuildEnv): string | undefined {
  const record = readBuildRecord(path.join(root, "dist/extension"));
  if (!record) return "dist/extension has no build record (dist/extension.build.json): it may have been built with other settings";
  if (!sameSettings(record.settings, current)) {
    return `dist/extension was built for ${record.settings.serverUrl} with other settings than now (server ${current.serverUrl})`;
  }
  return undefined;
}

/** What `npm start` builds, decided from file times and the extension's build record. */
export function planBuilds(root = REPO_ROOT, current: BuildEnv = readBuildEnv()): PlannedBuild[] {
  return TARGETS.map((target) => {
    const output = path.join(root, target.output);
    if (!existsSync(output)) return { name: target.name, script: target.script, action: "build", reason: "not built yet" };
    if (newestMtime(root, target.inputs) <= statSync(output).mtimeMs) return { name: target.name, script: target.script, action: "fresh" };
    const kept = target.name === "extension" ? extensionKept(root, current) : undefined;
    if (kept) return { name: target.name, script: target.script, action: "kept", reason: kept };
    return { name: target.name, script: target.script, action: "build", reason: "sources changed" };
  });
}

function say(line: string): void {
  process.stdout.write(`switchboard: ${line}\n`);
}

function main(): void {
  for (const planned of planBuilds()) {
    if (planned.action === "fresh") say(`${planned.name} build is up to date`);
    else if (planned.action === "kept") say(`${planned.reason}; leaving it as it is. Rebuild it yourself with: npm run ${planned.script}`);
    else {
      say(`building the ${planned.name} (${planned.reason}: npm run ${planned.script})`);
      const result = spawnSync("npm", ["run", "--silent", planned.script], { cwd: REPO_ROOT, stdio: "inherit" });
      if (result.status !== 0) {
        process.stderr.write(`switchboard: npm run ${planned.script} failed (exit ${result.status ?? result.signal})\n`);
        process.exit(result.status ?? 1);
      }
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
