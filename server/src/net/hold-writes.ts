import type { Duplex } from "node:stream";

/**
 * Hold everything written to `socket` until the returned function is called (idempotent), so
 * writes separated by an asynchronous step leave in one `writev`: the upgrade's `101` response
 * and the `welcome` sent after the owner claim's Redis round trip. `end()` and `destroy()` let
 * the data go (or drop it) without a release; a socket that is not a stream socket is left alone.
 */
export function holdWrites(socket: Duplex): () => void {
  if (socket.destroyed || typeof socket.cork !== "function") return () => {};
  socket.cork();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (!socket.destroyed && socket.writableCorked > 0) socket.uncork();
  };
}
