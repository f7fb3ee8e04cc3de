/**
 * The bare-ws comparison peer for `npm run bench:peers`: `ws` 8 on a plain HTTP server, the
 * token in the subprotocol list (`switchboard.v1`, `bearer.<jwt>`) on `/ws/chat/{userId}`, one
 * socket per user (a new one closes the old with 1000), and one relay: `{to, body}` from a user
 * becomes `{from, body}` on the recipient's socket. Nothing is stored, acknowledged or ordered
 * across instances: it is the floor a chat server is measured against.
 */
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { BEARER_PROTOCOL_PREFIX, SUBPROTOCOL, ServerClose, ServerFrameType, WS_PATH_PREFIX } from "../../shared/protocol/index.js";
import { announceListening, verifiedUser } from "./peer-auth.js";

const sockets = new Map<number, WebSocket>();
const server = createServer((_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

server.on("upgrade", (req, socket, head) => {
  const pathUserId = Number((req.url ?? "").slice(WS_PATH_PREFIX.length));
  const offered = String(req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim());
  const token = offered.find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX))?.slice(BEARER_PROTOCOL_PREFIX.length);
  void verifiedUser(token, pathUserId).then((userId) => {
    if (userId === null) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const previous = sockets.get(userId);
      sockets.set(userId, ws);
      previous?.close(ServerClose.replaced.code, ServerClose.replaced.reason);
      ws.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as { to: number; body: string };
        sockets.get(frame.to)?.send(JSON.stringify({ from: userId, body: frame.body }));
      });
      ws.on("close", () => {
        if (sockets.get(userId) === ws) sockets.delete(userId);
      });
      ws.on("error", () => {});
      ws.send(JSON.stringify({ type: ServerFrameType.welcome }));
    });
  });
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") announceListening(address.port);
});
