import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/log/logger.js";
import { startLocalRedis, type LocalRedisServer } from "../../server/src/redis/local-redis-server.js";
import { createSwitchboardServer, type CreateServerOptions, type SwitchboardServer } from "../../server/src/server.js";
import { afterAll, beforeAll } from "vitest";
import { seedPgliteDataDir } from "./pglite-template.js";

export interface TestServer {
  server: SwitchboardServer;
  redis: LocalRedisServer;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/**
 * A real server in this process on a free port, with a private redis-server and a fresh PGlite
 * folder (a copy of the run's template). `env` overrides configuration as the environment would.
 */
export async function startTestServer(env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<TestServer> {
  const redis = await startLocalRedis();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-test-"));
  if (!env.DATABASE_URL) await seedPgliteDataDir(dataDir);
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    SHUTDOWN_TIMEOUT_MS: "3000",
    ...env,
  });
  const server = await createSwitchboardServer(config, { logger: createLogger({ level: config.logLevel }), ...options });
  return {
    server,
    redis,
    url: server.url,
    wsUrl: server.url.replace(/^http/, "ws"),
    async stop() {
      await server.shutdown();
      await redis.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `startTestServer` for a whole test file or `describe` block: started before its tests, stopped
 * after them. The returned object is filled in once the server is up, so read it inside tests.
 */
export function useTestServer(env: Record<string, string> = {}, options: CreateServerOptions = {}): TestServer {
  const handle = {} as TestServer;
  beforeAll(async () => {
    Object.assign(handle, await startTestServer(env, options));
  });
  afterAll(async () => handle.stop?.());
  return handle;
}
