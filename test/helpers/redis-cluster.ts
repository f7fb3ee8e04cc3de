import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort, startLocalRedis, type LocalRedisServer } from "../../server/src/redis/local-redis-server.js";

const run = promisify(execFile);

/** A private Redis Cluster of `masters` masters (no replicas) on loopback, for tests and benches. */
export interface LocalRedisCluster {
  readonly nodes: { host: string; port: number }[];
  readonly servers: LocalRedisServer[];
  /** A cluster client on it (the caller disconnects it). */
  client(options?: ConstructorParameters<typeof Cluster>[1]): Cluster;
  /** Stop every node and remove their folders. Idempotent. */
  stop(): Promise<void>;
}

export async function startRedisCluster(options: { masters?: number; readyTimeoutMs?: number } = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const servers: LocalRedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      // The cluster bus port defaults to port + 10000, which may be taken or past 65535: pick one.
      const busPort = await freePort();
      servers.push(
        await startLocalRedis({
          args: ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", String(busPort), "--cluster-node-timeout", "2000"],
        }),
      );
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"], { timeout: 30_000 });
    await waitForClusterOk(servers, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = servers.map((server) => ({ host: "127.0.0.1", port: server.port }));
  return {
    nodes,
    servers,
    client: (clusterOptions) => new Cluster(nodes, clusterOptions),
    stop,
  };
}

async function waitForClusterOk(servers: LocalRedisServer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const clients = servers.map((server) => new Redis(server.port, "127.0.0.1", { lazyConnect: false, maxRetriesPerRequest: 1 }));
  try {
    while (Date.now() < deadline) {
      const infos = await Promise.all(clients.map((client) => client.cluster("INFO") as Promise<string>));
      if (infos.every((info) => /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${servers.length}\\b`).test(info))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Redis Cluster did not report cluster_state:ok within ${timeoutMs} ms`);
  } finally {
    for (const client of clients) client.disconnect();
  }
}

export type RedisBackendKind = "standalone" | "cluster";

/**
 * A private Redis of either kind, so one test body can run against both: `client()` returns a
 * new standalone or cluster client each call (the test disconnects it).
 */
export interface RedisBackend {
  readonly kind: RedisBackendKind;
  client(): Redis | Cluster;
  stop(): Promise<void>;
}

export async function startRedisBackend(kind: RedisBackendKind): Promise<RedisBackend> {
  if (kind === "cluster") {
    const cluster = await startRedisCluster({ masters: 3 });
    return { kind, client: () => cluster.client(), stop: () => cluster.stop() };
  }
  const server = await startLocalRedis();
  return { kind, client: () => new Redis(server.url, { maxRetriesPerRequest: 3 }), stop: () => server.stop() };
}
