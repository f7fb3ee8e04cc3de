import WebSocket from "ws";
import { EXTENSION_URL, type DrivenBrowser } from "../../helpers/chromium.js";

/**
 * Cut the network of the extension's service worker, if one runs, and of the pages whose URL
 * starts with one of `pageUrlPrefixes`,
 * with CDP `Network.emulateNetworkConditions`: Playwright's `setOffline` does not reach an
 * extension's worker, so this talks to the browser endpoint directly and attaches (flattened)
 * to each target. `navigator.onLine` in the worker follows, but — as in real Chromium — no
 * `online`/`offline` event fires there.
 */
export async function cutNetwork(driven: DrivenBrowser, pageUrlPrefixes: string[] = []): Promise<{ restore(): Promise<void> }> {
  const socket = new WebSocket(driven.chrome.wsEndpoint);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  const send = <T>(method: string, params: object = {}, sessionId?: string) =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  const sessions: string[] = [];
  try {
    const { targetInfos } = await send<{ targetInfos: Array<{ targetId: string; type: string; url: string }> }>("Target.getTargets");
    const targets = targetInfos.filter(
      (target) =>
        (target.type === "service_worker" && target.url.startsWith(EXTENSION_URL)) ||
        (target.type === "page" && pageUrlPrefixes.some((prefix) => target.url.startsWith(prefix))),
    );
    if (targets.length === 0) throw new Error("cutNetwork: no running target matches (is the extension's worker running, are the pages open?).");
    for (const target of targets) {
      const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", { targetId: target.targetId, flatten: true });
      await send("Network.enable", {}, sessionId);
      await send("Network.emulateNetworkConditions", { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }, sessionId);
      sessions.push(sessionId);
    }
  } catch (error) {
    socket.close();
    throw error;
  }
  return {
    // Back online: lift the emulation, then detach (a target that went away, e.g. a stopped worker, is skipped).
    async restore() {
      for (const sessionId of sessions) {
        await send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }, sessionId).catch(
          () => undefined,
        );
      }
      socket.close();
    },
  };
}
