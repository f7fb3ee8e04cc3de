import { cp, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openDb } from "../../server/src/store/db.js";
import { migrate } from "../../server/src/store/migrations.js";

/**
 * A PGlite data folder holding `count` users with ids 1..count (no demo users), for benches whose
 * senders and recipients must exist (messages reference users). Made once; `copyDataDir` gives
 * each server process its own copy, so runs never share state.
 */
export async function createBenchUsersDataDir(count: number): Promise<string> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-users-"));
  const db = await openDb({ dataDir });
  try {
    await migrate(db);
    // Tokens are issued directly by the bench, so the password hash is never checked.
    await db.query(
      `INSERT INTO users (username, password_hash, display_name, email)
       SELECT 'bench-' || g, 'not-a-login', 'Bench ' || g, 'bench-' || g || '@example.invalid' FROM generate_series(1, $1::int) AS g`,
      [count],
    );
  } finally {
    await db.close();
  }
  return dataDir;
}

export async function copyDataDir(template: string): Promise<string> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-"));
  await cp(path.join(template, "pglite"), path.join(dataDir, "pglite"), { recursive: true });
  return dataDir;
}
