import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * Tracks the HTTP server's connections and how many requests each has in flight, so shutdown
 * can close every idle one at once. Node's `closeIdleConnections()` skips a connection that has
 * not sent a request yet — Chromium's preconnected spare sockets — and a keep-alive connection
 * whose response finishes after it ran; either held the process until the shutdown budget ran
 * out (9 s with a browser attached). Upgraded (WebSocket) connections are left to their owner.
 */
export interface IdleConnectionCloser {
  /** Close idle connections now, and every other one as soon as its last response is sent. */
  closeIdle(): void;
}

export function trackIdleConnections(server: HttpServer): IdleConnectionCloser {
  const inFlight = new Map<Socket, number>();
  let closing = false;

  const endIfIdle = (socket: Socket) => {
    if (closing && inFlight.get(socket) === 0) socket.destroy();
  };

  server.on("connection", (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once("close", () => inFlight.delete(socket));
    // A connection accepted after close() was called cannot exist, but one accepted in the same tick can.
    endIfIdle(socket);
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    if (closing) res.setHeader("Connection", "close");
    res.once("close", () => {
      if (!inFlight.has(socket)) return;
      inFlight.set(socket, Math.max(0, (inFlight.get(socket) ?? 1) - 1));
      endIfIdle(socket);
    });
  });
  server.on("upgrade", (req: IncomingMessage) => inFlight.delete(req.socket));

  return {
    closeIdle() {
      closing = true;
      for (const socket of inFlight.keys()) endIfIdle(socket);
    },
  };
}
