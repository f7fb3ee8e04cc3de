import type { Socket } from "node:net";

const corked = new WeakSet<Socket>();

/**
 * Cork `socket` until the I/O callbacks of this event-loop turn have run, so everything written
 * to it meanwhile leaves in one `writev` instead of a syscall per write. Order is kept (cork only
 * defers), `writableLength` (and so ws's `bufferedAmount`) counts the corked bytes, and `end()`
 * uncorks. Idempotent within a turn; a destroyed socket is left alone.
 */
export function corkUntilNextTurn(socket: Socket | undefined | null): void {
  if (!socket || socket.destroyed || corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
