import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * "No pickle on the online path" must not rest on a flag: the online cache
 * (`server/src/cache/`) must be unable to load the pickle walker, which lives with the offline
 * migration tool in `server/src/cache-migrate/`. The tool imports the online cache, never the
 * other way round (docs/cache.md#two-folders).
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ONLINE_DIR = path.join(repoRoot, "server", "src", "cache");
const TOOL_DIR = path.join(repoRoot, "server", "src", "cache-migrate");

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

const onlineFiles = typescriptFiles(ONLINE_DIR);
const isTool = (file: string) => file === TOOL_DIR || file.startsWith(TOOL_DIR + path.sep);
const isPickleWalker = (file: string) => path.basename(file).startsWith("pickle-walker");

/**
 * Every file the online cache loads at run time, followed transitively and resolved the way a
 * bundler does (esbuild's metafile), so an indirect path — online file → some helper → the
 * walker — is caught too. npm packages are left out: only this repository's files matter here.
 */
async function runtimeClosure(entryPoints: string[]): Promise<string[]> {
  const result = await build({
    entryPoints,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outdir: path.join(repoRoot, "dist", "import-scan"),
    logLevel: "silent",
  });
  return Object.keys(result.metafile.inputs).map((input) => path.resolve(repoRoot, input));
}

/** The relative module specifiers a file names, type-only imports included (they vanish from a bundle). */
function relativeSpecifiers(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of source.matchAll(pattern)) specifiers.push(match[1]!);
  return specifiers;
}

describe("the online cache cannot reach the migration tool", () => {
  it("scans a non-trivial online cache folder", () => {
    expect(onlineFiles.map((file) => path.basename(file))).toEqual(expect.arrayContaining(["user-cache.ts", "decode-value.ts", "index.ts"]));
  });

  it("never loads the pickle walker or a file of the tool folder, directly or transitively", async () => {
    const reached = await runtimeClosure(onlineFiles);
    expect(reached.length).toBeGreaterThan(onlineFiles.length); // it did follow imports out of the folder (log, config, metrics)
    expect(reached.filter((file) => isPickleWalker(file) || isTool(file)).map((file) => path.relative(repoRoot, file))).toEqual([]);
  });

  it("names no module of the tool folder, not even for a type", () => {
    const offending: string[] = [];
    for (const file of onlineFiles) {
      for (const specifier of relativeSpecifiers(file)) {
        const target = path.resolve(path.dirname(file), specifier);
        if (isTool(target) || isPickleWalker(target)) offending.push(`${path.relative(repoRoot, file)} → ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("keeps no pickle walker inside the online folder", () => {
    expect(onlineFiles.filter(isPickleWalker).map((file) => path.relative(repoRoot, file))).toEqual([]);
  });
});
