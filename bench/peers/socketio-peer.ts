/**
 * The Socket.IO comparison peer for `npm run bench:peers`: Socket.IO 4.8 (WebSocket transport
 * only), the token and user id in the handshake's `auth`, one socket per user (a new one
 * disconnects the old), and one relay: a `send` `{to, body}` becomes a `message` `{from, body}`
 * to the recipient. Nothing is stored or acknowledged.
 */
import { createServer } from "node:http";
import { Server, type Socket } from "socket.io";
import { announceListening, verifiedUser } from "./peer-auth.js";

const sockets = new Map<number, Socket>();
const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"], perMessageDeflate: false, serveClient: false });

io.use((socket, next) => {
  const auth = socket.handshake.auth as { token?: string; userId?: number };
  void verifiedUser(auth.token, Number(auth.userId)).then((userId) => {
    if (userId === null) return next(new Error("unauthorized"));
    socket.data.userId = userId;
    next();
  });
});

io.on("connection", (socket) => {
  const userId = socket.data.userId as number;
  const previous = sockets.get(userId);
  sockets.set(userId, socket);
  previous?.disconnect(true);
  socket.on("send", (frame: { to: number; body: string }) => {
    sockets.get(frame.to)?.emit("message", { from: userId, body: frame.body });
  });
  socket.on("disconnect", () => {
    if (sockets.get(userId) === socket) sockets.delete(userId);
  });
  socket.emit("welcome");
});

httpServer.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = httpServer.address();
  if (address && typeof address === "object") announceListening(address.port);
});
