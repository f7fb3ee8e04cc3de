import { readFileSync } from "node:fs";
import { cp, mkdir, rename, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * PGlite runs `initdb` (in WebAssembly) the first time it opens a data folder: 5–15 s on a busy
 * 2-core machine, while reopening a folder takes about a second. The test run creates one
 * initialised folder (global setup) and every test server starts from a copy of it.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const version = (JSON.parse(readFileSync(path.join(repoRoot, "node_modules/@electric-sql/pglite/package.json"), "utf8")) as { version: string }).version;
export const PGLITE_TEMPLATE_DIR = path.join(os.tmpdir(), `switchboard-pglite-template-${version}`);

export async function ensurePgliteTemplate(): Promise<string> {
  if (await exists(path.join(PGLITE_TEMPLATE_DIR, "PG_VERSION"))) return PGLITE_TEMPLATE_DIR;
  const { PGlite } = await import("@electric-sql/pglite");
  const building = `${PGLITE_TEMPLATE_DIR}.${process.pid}.tmp`;
  await rm(building, { recursive: true, force: true });
  await mkdir(path.dirname(building), { recursive: true });
  const db = await PGlite.create(building);
  await db.close();
  try {
    await rename(building, PGLITE_TEMPLATE_DIR); // atomic: a concurrent builder's result is as good
  } catch {
    await rm(building, { recursive: true, force: true });
  }
  return PGLITE_TEMPLATE_DIR;
}

/** Lay a fresh database for a server whose `DATA_DIR` is `dataDir` (the server opens `dataDir/pglite`). */
export async function seedPgliteDataDir(dataDir: string): Promise<void> {
  const template = await ensurePgliteTemplate();
  await cp(template, path.join(dataDir, "pglite"), { recursive: true });
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
