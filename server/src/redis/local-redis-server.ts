import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * Starts a private `redis-server` on a free loopback port and stops it again. Used by
 * `npm start` when `REDIS_URL` is unset and by every integration test (never the machine's
 * shared Redis on 6379).
 */
export interface LocalRedisServer {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Stop it (SIGTERM, then SIGKILL after 3 s) and remove its folder. Idempotent. */
  stop(): Promise<void>;
  /** Kill it hard (a crash, for fault tests). The folder and port stay for `restart()`. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port (after `kill`). */
  restart(): Promise<void>;
}

export interface LocalRedisOptions {
  /** @default "redis-server" (Debian package `redis-server`) */
  binary?: string;
  /** A fixed port; by default a free one is picked. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `["--cluster-enabled", "yes"]`. */
  args?: string[];
  /** @default 10000 */
  startTimeoutMs?: number;
}

export class RedisBinaryMissingError extends Error {
  constructor(binary: string) {
    super(
      `Could not run "${binary}". Install Redis (Debian/Ubuntu: "apt-get install -y redis-server"), ` +
        `or set REDIS_URL to an existing Redis (e.g. REDIS_URL=redis://127.0.0.1:6379).`,
    );
    this.name = "RedisBinaryMissingError";
  }
}

/**
 * Private servers still running, and their folders: killed and removed when this process exits
 * without stopping them — `process.exit` after a second Ctrl-C or a shutdown timeout, a failed
 * start, an uncaught error. A redis-server has no way to notice its parent is gone (its output
 * pipes are only written on a warning), so it would outlive every such exit.
 */
const running = new Map<ChildProcess, string>();
process.once("exit", () => {
  for (const [orphan, folder] of running) {
    orphan.kill("SIGKILL");
    rmSync(folder, { recursive: true, force: true });
  }
});

function outliveNoOne(child: ChildProcess, dir: string): void {
  running.set(child, dir);
  child.once("exit", () => running.delete(child));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedisServer> {
  const binary = options.binary ?? "redis-server";
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-redis-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      let child = await spawnRedis(binary, port, dir, options);
      outliveNoOne(child, dir);
      let stopped = false;
      const handle: LocalRedisServer = {
        port,
        url: `redis://127.0.0.1:${port}`,
        get process() {
          return child;
        },
        async kill(signal: NodeJS.Signals = "SIGKILL") {
          await terminate(child, signal, 0);
        },
        async restart() {
          child = await spawnRedis(binary, port, dir, options);
          outliveNoOne(child, dir);
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          await terminate(child, "SIGTERM", 3000);
          await rm(dir, { recursive: true, force: true });
        },
      };
      return handle;
    } catch (error) {
      if (error instanceof RedisBinaryMissingError || options.port) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      lastError = error; // the port was taken between probe and bind: try another
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error("could not start redis-server");
}

function spawnRedis(binary: string, port: number, dir: string, options: LocalRedisOptions): Promise<ChildProcess> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--loglevel",
    "warning",
    ...(options.args ?? []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not become ready on port ${port} within ${options.startTimeoutMs ?? 10000} ms: ${output.slice(-500)}`));
    }, options.startTimeoutMs ?? 10000);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === "ENOENT" ? new RedisBinaryMissingError(binary) : error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code} before it was ready: ${output.slice(-500)}`));
    });
    const poll = async () => {
      while (child.exitCode === null && !child.killed) {
        if (await canPing(port)) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          child.stdout?.resume();
          child.stderr?.resume();
          resolve(child);
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    void poll();
  });
}

function canPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  if (graceMs > 0) {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  } else {
    await exited;
  }
}
