import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll } from "vitest";
import { ClientFrameType, CloseCode, ServerFrameType, type EventFrame, type SendFrame, type ServerFrame } from "../../shared/protocol/index.js";
import { startLocalRedis, type LocalRedisServer } from "../../server/src/redis/local-redis-server.js";
import { connectChat, login, type ChatClient } from "./chat-client.js";
import { startPostgres, type LocalPostgres } from "./postgres.js";
import { startRedisCluster, type LocalRedisCluster, type RedisBackendKind } from "./redis-cluster.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";

/**
 * Several real server processes behind no load balancer (the test picks the instance), sharing
 * one Redis (standalone or a 3-master cluster) and one Postgres (`DATABASE_URL`, or a private
 * one started here).
 */
export interface Deployment {
  readonly servers: ServerProcess[];
  readonly redisKind: RedisBackendKind;
  /** The standalone Redis (for fault tests); null on a cluster. */
  readonly redis: LocalRedisServer | null;
  readonly cluster: LocalRedisCluster | null;
  readonly databaseUrl: string;
  stop(): Promise<void>;
}

export async function startDeployment(options: { instances?: number; redis?: RedisBackendKind; env?: Record<string, string> } = {}): Promise<Deployment> {
  const kind = options.redis ?? "standalone";
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    let postgres: LocalPostgres | null = null;
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      postgres = await startPostgres();
      stops.push(() => postgres!.stop());
      databaseUrl = postgres.url;
    }
    let redis: LocalRedisServer | null = null;
    let cluster: LocalRedisCluster | null = null;
    let redisUrl: string;
    if (kind === "cluster") {
      cluster = await startRedisCluster({ masters: 3 });
      stops.push(() => cluster!.stop());
      redisUrl = `redis://${cluster.nodes[0]!.host}:${cluster.nodes[0]!.port}`;
    } else {
      redis = await startLocalRedis();
      stops.push(() => redis!.stop());
      redisUrl = redis.url;
    }
    const servers: ServerProcess[] = [];
    // One at a time: the first one migrates and seeds the shared database.
    for (let i = 0; i < (options.instances ?? 2); i++) {
      const server = await startServerProcess({
        env: {
          REDIS_URL: redisUrl,
          ...(kind === "cluster" ? { REDIS_CLUSTER: "true" } : {}),
          DATABASE_URL: databaseUrl,
          INSTANCE_ID: `instance-${i}`,
          HISTORY_MAX_LEN: "20000",
          ...options.env,
        },
      });
      servers.push(server);
      stops.push(() => server.stop());
    }
    return { servers, redisKind: kind, redis, cluster, databaseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A deployment for the enclosing `describe` (started before its tests, stopped after); read it through the getter. */
export function deploymentForSuite(options: Parameters<typeof startDeployment>[0]): () => Deployment {
  let deployment: Deployment | undefined;
  beforeAll(async () => {
    deployment = await startDeployment(options);
  }, 90_000);
  afterAll(async () => {
    await deployment?.stop();
  });
  return () => {
    if (!deployment) throw new Error("the deployment did not start (see beforeAll)");
    return deployment;
  };
}

export async function userToken(baseUrl: string, username: string): Promise<{ token: string; userId: number }> {
  const session = await login(baseUrl, username);
  return { token: session.accessToken, userId: session.user.id };
}

/**
 * A test client that behaves like the extension on a rolling deploy: after `1012 Service
 * restart` (or a dropped link) it reconnects to the next instance after a short jittered delay,
 * sends `resume {epoch, seq}`, and re-sends the `send` frames not yet acknowledged (the server
 * is idempotent on clientMsgId). It stays closed after `1000 New connection established`.
 */
export class FollowingClient {
  readonly events: EventFrame[] = [];
  readonly acked = new Map<string, number>();
  readonly closes: { code: number; reason: string }[] = [];
  resumedFalse = 0;
  connections = 0;
  #cursor: { epoch: string; seq: number } | null = null;
  #client: ChatClient | null = null;
  #index: number;
  #stopped = false;
  readonly #pending = new Map<string, unknown>();

  constructor(
    private readonly wsUrls: () => string[],
    private readonly userId: number,
    private readonly token: string,
    startIndex = 0,
  ) {
    this.#index = startIndex;
  }

  get instanceIndex(): number {
    return this.#index;
  }

  get open(): boolean {
    return this.#client?.ws.readyState === this.#client?.ws.OPEN;
  }

  /** Connect (or reconnect) and resolve once `welcome` arrived. */
  async connect(): Promise<void> {
    for (let attempt = 0; attempt < 50 && !this.#stopped; attempt++) {
      const urls = this.wsUrls();
      const client = connectChat(urls[this.#index % urls.length]!, this.userId, { token: this.token });
      client.ws.on("message", (data) => this.#onFrame(JSON.parse(data.toString()) as ServerFrame));
      if (this.#cursor) client.send({ type: ClientFrameType.resume, ...this.#cursor });
      try {
        await client.opened;
        await client.next((f) => f.type === ServerFrameType.welcome, 5000);
      } catch {
        client.ws.terminate();
        this.#index++;
        await sleep(100 + Math.random() * 200);
        continue;
      }
      this.#client = client;
      this.connections++;
      for (const frame of this.#pending.values()) client.send(frame);
      void client.closed.then((close) => this.#onClose(client, close));
      return;
    }
    throw new Error(`user ${this.userId} could not reconnect`);
  }

  send(frame: SendFrame): void {
    this.#pending.set(frame.clientMsgId, frame);
    if (this.open) this.#client!.send(frame);
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  #onFrame(frame: ServerFrame): void {
    if (frame.type === ServerFrameType.welcome) {
      this.#cursor ??= { epoch: frame.epoch, seq: frame.seq };
    } else if (frame.type === ServerFrameType.event) {
      this.events.push(frame);
      this.#cursor = { epoch: frame.epoch, seq: frame.seq };
    } else if (frame.type === ServerFrameType.resumed) {
      if (!frame.recovered) this.resumedFalse++;
      if (frame.epoch !== undefined && frame.seq !== undefined) this.#cursor = { epoch: frame.epoch, seq: frame.seq };
    } else if (frame.type === ServerFrameType.ack) {
      this.#pending.delete(frame.clientMsgId);
      this.acked.set(frame.clientMsgId, frame.messageId);
    }
  }

  #onClose(client: ChatClient, close: { code: number; reason: string }): void {
    if (client !== this.#client) return;
    this.closes.push(close);
    this.#client = null;
    if (this.#stopped || close.code === CloseCode.normal) return;
    // Reconnect to the next instance, as a load balancer would once this one stopped accepting.
    this.#index++;
    void sleep(Math.random() * 300).then(() => this.connect().catch(() => undefined));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#client?.close();
  }
}
