import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startLocalRedis, type LocalRedisServer } from "../../server/src/redis/local-redis-server.js";
import { seedPgliteDataDir } from "./pglite-template.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVER_ENTRY = path.join(REPO_ROOT, "dist/server/src/main.js");

export interface ServerProcess {
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Everything the process printed (stdout + stderr). */
  output(): string;
  /** SIGTERM and wait for exit; then remove the private Redis and data folder. */
  stop(): Promise<void>;
  /** Send a signal and wait for the exit (code, signal). Data and Redis are kept for `restart()`. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Start the process again on the same port with the same data. */
  restart(): Promise<void>;
}

export interface ServerProcessOptions {
  env?: Record<string, string>;
  port?: number;
  /** @default 60000 */
  readyTimeoutMs?: number;
}

/**
 * Runs the built server (`dist/server/src/main.js`, built by `npm run build:server`, which
 * `npm test` runs first) as a real process, with its own private redis-server (unless
 * `REDIS_URL` is given) and a temporary PGlite folder (unless `DATABASE_URL` is given).
 */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run "npm run build:server" first (npm test does it in pretest).`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-server-"));
  let redis: LocalRedisServer | null = null;
  const env: Record<string, string> = { ...options.env };
  if (!env.REDIS_URL) {
    redis = await startLocalRedis();
    env.REDIS_URL = redis.url;
  }
  if (!env.DATABASE_URL) await seedPgliteDataDir(dataDir);
  let port = options.port ?? (await freePort());
  let child!: ChildProcess;
  let output = "";

  const launch = async () => {
    output += `--- start ${new Date().toISOString()}\n`;
    child = spawn(process.execPath, [SERVER_ENTRY], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? os.tmpdir(),
        NODE_ENV: "development",
        LOG_LEVEL: "warn",
        SWITCHBOARD_QUIET: "1",
        HOST: "127.0.0.1",
        PORT: String(port),
        DATA_DIR: dataDir,
        SHUTDOWN_TIMEOUT_MS: "5000",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    await waitReady(`http://127.0.0.1:${port}`, child, options.readyTimeoutMs ?? 60_000, () => output);
  };

  const waitExit = () =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });

  try {
    // A free port can be taken by another process between choosing it and the child binding it
    // (the suite runs files in parallel): choose again, unless the caller asked for this port.
    for (let attempt = 1; ; attempt++) {
      try {
        await launch();
        break;
      } catch (error) {
        if (options.port !== undefined || attempt >= 3 || !output.includes("EADDRINUSE")) throw error;
        port = await freePort();
      }
    }
  } catch (error) {
    child?.kill("SIGKILL");
    await redis?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  const handle: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid!;
    },
    get process() {
      return child;
    },
    output: () => output,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      const exited = waitExit();
      child.kill(signal);
      return exited;
    },
    async restart() {
      await launch();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = waitExit();
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 8000);
        await exited;
        clearTimeout(timer);
      }
      await redis?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output().slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready within ${timeoutMs} ms:\n${output().slice(-2000)}`);
}
