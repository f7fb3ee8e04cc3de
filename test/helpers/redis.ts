import { Redis } from "ioredis";
import { startLocalRedis, type LocalRedisServer } from "../../server/src/redis/local-redis-server.js";

export { startLocalRedis, type LocalRedisServer };

/** A private redis-server for one test file plus a client on it; `stop()` tears both down. */
export async function redisForTest(): Promise<{ server: LocalRedisServer; client: Redis; stop(): Promise<void> }> {
  const server = await startLocalRedis();
  const client = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  return {
    server,
    client,
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}
