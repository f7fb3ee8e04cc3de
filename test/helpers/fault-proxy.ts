import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { RestErrorCode } from "../../shared/protocol/index.js";

/** What the proxy does with the next requests. */
export const FaultMode = {
  /** Forward everything (HTTP and WebSocket upgrades) to the server. */
  pass: "pass",
  /** Answer every request `503` and refuse every upgrade: the server looks down. */
  unavailable: "unavailable",
  /** Refuse upgrades and answer `POST /api/messages` with `400`: a send is refused for good. */
  refuseSends: "refuse-sends",
} as const;
export type FaultMode = (typeof FaultMode)[keyof typeof FaultMode];

export interface FaultProxy {
  readonly url: string;
  mode: FaultMode;
  /** Requests answered with a fault so far (each `503`/`400` and refused upgrade). */
  readonly faults: number;
  /** `POST` sends answered `400` so far. */
  readonly refusedSends: number;
  /** Drop every open connection (sockets included), e.g. when switching to a fault. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of the real server that can answer faults on demand: the server
 * itself stays untouched, the client sees exactly what a proxy or a restarting server sends.
 */
export async function startFaultProxy(target: string, sendPath: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  let faults = 0;
  let refusedSends = 0;
  const proxy = {
    mode: FaultMode.pass as FaultMode,
  };
  const server = http.createServer((request, response) => {
    if (proxy.mode === FaultMode.unavailable) {
      faults += 1;
      response.writeHead(503, { "content-type": "text/plain", "access-control-allow-origin": request.headers.origin ?? "*" }).end("Service Unavailable");
      return;
    }
    if (proxy.mode === FaultMode.refuseSends && request.method === "POST" && request.url?.startsWith(sendPath)) {
      faults += 1;
      refusedSends += 1;
      response
        .writeHead(400, {
          "content-type": "application/json",
          "access-control-allow-origin": request.headers.origin ?? "*",
          "access-control-allow-credentials": "true",
        })
        .end(JSON.stringify({ error: { code: RestErrorCode.invalidBody, message: "Refused by the test proxy." } }));
      return;
    }
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on("error", () => response.destroy());
    request.pipe(forwarded);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request, socket, head) => {
    if (proxy.mode !== FaultMode.pass) {
      faults += 1;
      socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n");
      return;
    }
    const connection = net.connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${String(value)}`)];
      connection.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) connection.write(head);
      connection.pipe(socket);
      socket.pipe(connection);
    });
    sockets.add(connection);
    connection.on("close", () => sockets.delete(connection));
    connection.on("error", () => socket.destroy());
    socket.on("error", () => connection.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get mode() {
      return proxy.mode;
    },
    set mode(next: FaultMode) {
      proxy.mode = next;
    },
    get faults() {
      return faults;
    },
    get refusedSends() {
      return refusedSends;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
