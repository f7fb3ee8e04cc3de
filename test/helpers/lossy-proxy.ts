import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A loopback TCP proxy that makes a bad link on purpose: every chunk, both ways, waits a random
 * latency in [0, jitterMs], and `stall(ms)` holds everything (in flight and new) for a while, as a
 * congested Wi-Fi or a mobile handover does. Order is kept; nothing is dropped. When one side
 * closes, the other is closed once what was queued for it is delivered.
 */
export interface LossyProxy {
  readonly port: number;
  /** `ws://127.0.0.1:<port>` */
  readonly wsUrl: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  setJitter(maxMs: number): void;
  /** Hold both directions of every connection for `ms` from now. */
  stall(ms: number): void;
  /** Drop every open connection and refuse new ones (a lost link); returns the function that restores it. */
  cut(): () => void;
  close(): Promise<void>;
}

interface Link {
  jitterMs: number;
  stalledUntil: number;
}

/** One direction of one connection: chunks are written to `destination` when due and not stalled. */
class DelayedPipe {
  readonly #queue: Array<{ chunk: Buffer; dueAt: number }> = [];
  #lastDueAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #ended = false;

  constructor(
    private readonly destination: Socket,
    private readonly link: Link,
  ) {}

  push(chunk: Buffer): void {
    // Never earlier than the chunk before it: latency varies, order does not.
    const dueAt = Math.max(Date.now() + Math.random() * this.link.jitterMs, this.#lastDueAt);
    this.#lastDueAt = dueAt;
    this.#queue.push({ chunk, dueAt });
    this.#schedule();
  }

  end(): void {
    this.#ended = true;
    this.#schedule();
  }

  /** Re-check after a stall was added. */
  poke(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.destination.destroyed) return;
    const head = this.#queue[0];
    if (!head) {
      if (this.#ended) this.destination.end();
      return;
    }
    const due = Math.max(head.dueAt, this.link.stalledUntil);
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        const now = Date.now();
        while (this.#queue.length > 0 && this.#queue[0]!.dueAt <= now && this.link.stalledUntil <= now) {
          this.destination.write(this.#queue.shift()!.chunk);
        }
        this.#schedule();
      },
      Math.max(0, due - Date.now()),
    );
  }
}

export async function startLossyProxy(target: { host: string; port: number }): Promise<LossyProxy> {
  const link: Link = { jitterMs: 0, stalledUntil: 0 };
  const pipes = new Set<DelayedPipe>();
  const sockets = new Set<Socket>();
  let connections = 0;
  let refusing = false;
  const server: Server = createServer((downstream) => {
    if (refusing) {
      downstream.destroy();
      return;
    }
    connections += 1;
    const upstream = connect(target.port, target.host);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    const toServer = new DelayedPipe(upstream, link);
    const toClient = new DelayedPipe(downstream, link);
    pipes.add(toServer).add(toClient);
    downstream.on("data", (chunk: Buffer) => toServer.push(chunk));
    upstream.on("data", (chunk: Buffer) => toClient.push(chunk));
    downstream.on("end", () => toServer.end());
    upstream.on("end", () => toClient.end());
    downstream.on("close", () => {
      toServer.end();
      pipes.delete(toServer);
    });
    upstream.on("close", () => {
      toClient.end();
      pipes.delete(toClient);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    setJitter(maxMs) {
      link.jitterMs = maxMs;
    },
    stall(ms) {
      link.stalledUntil = Math.max(link.stalledUntil, Date.now() + ms);
      for (const pipe of pipes) pipe.poke();
    },
    cut() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
      return () => {
        refusing = false;
      };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
