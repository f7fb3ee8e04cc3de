import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../server/src/redis/local-redis-server.js";

const run = promisify(execFile);

/** A private Postgres cluster for tests that need several server processes on one database. */
export interface LocalPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth, loopback only). */
  readonly url: string;
  readonly port: number;
  /** Stop it (immediate shutdown) and remove its folder. Idempotent. */
  stop(): Promise<void>;
}

export class PostgresBinaryMissingError extends Error {
  constructor() {
    super(
      'Could not find "initdb"/"pg_ctl" on PATH or in /usr/lib/postgresql/*/bin. Install Postgres ' +
        '(Debian/Ubuntu: "apt-get install -y postgresql"), or set DATABASE_URL to an existing database.',
    );
    this.name = "PostgresBinaryMissingError";
  }
}

function findBinDir(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, "initdb")) && existsSync(path.join(dir, "pg_ctl"))) return dir;
  }
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], "bin");
  }
  throw new PostgresBinaryMissingError();
}

/**
 * initdb refuses to run as root, so as root every Postgres command runs as the `postgres` user
 * (created by Debian's package) through `runuser`, in a temporary folder that user owns.
 */
function asPostgresUser(): { prefix: string[]; uid: number; gid: number } | null {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { prefix: ["runuser", "-u", "postgres", "--"], uid, gid };
  } catch {
    throw new Error(
      'Running as root, but there is no "postgres" user to run initdb as. Install the "postgresql" package (it creates the user) or run the tests as a normal user.',
    );
  }
}

export async function startPostgres(options: { startTimeoutS?: number } = {}): Promise<LocalPostgres> {
  const binDir = findBinDir();
  const user = asPostgresUser();
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-pg-"));
  if (user) await chown(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  const logFile = path.join(dir, "postgres.log");
  const argv = (binary: string, args: string[]) => [...(user?.prefix ?? []), path.join(binDir, binary), ...args];
  const command = (binary: string, args: string[]) => {
    const full = argv(binary, args);
    return run(full[0]!, full.slice(1), { env: { ...process.env, LC_ALL: "C" }, timeout: 60_000 });
  };
  const pgCtlStop = () => command("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
  try {
    await command("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      // Durability off: a test database is thrown away, speed matters.
      const serverOptions = [
        `-p ${port}`,
        `-k ${dir}`,
        "-c listen_addresses=127.0.0.1",
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        "-c max_connections=200",
      ].join(" ");
      try {
        await command("pg_ctl", ["-D", data, "-l", logFile, "-o", serverOptions, "-w", "-t", String(options.startTimeoutS ?? 30), "start"]);
      } catch (error) {
        lastError = error; // most likely the port was taken between probe and bind
        await pgCtlStop();
        continue;
      }
      const stopOnExit = () => {
        const full = argv("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
        try {
          execFileSync(full[0]!, full.slice(1), { stdio: "ignore" });
        } catch {
          // already stopped
        }
      };
      process.once("exit", stopOnExit);
      let stopped = false;
      return {
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        port,
        async stop() {
          if (stopped) return;
          stopped = true;
          process.off("exit", stopOnExit);
          await pgCtlStop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    const log = await readFile(logFile, "utf8").catch(() => "");
    throw new Error(`Postgres did not start: ${lastError instanceof Error ? lastError.message : String(lastError)}\n${log.slice(-1000)}`);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
