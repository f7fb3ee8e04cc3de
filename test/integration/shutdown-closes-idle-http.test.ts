import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";

/** GET on a keep-alive agent; resolves with the status once the body is read (the socket stays open). */
function get(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      })
      .on("error", reject);
  });
}

describe("shutdown with idle keep-alive HTTP connections (a real process)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // A long shutdown budget: idle connections must not hold the process until it runs out.
    server = await startServerProcess({ env: { SHUTDOWN_TIMEOUT_MS: "10000" } });
  });
  afterAll(async () => server?.stop());

  it("SIGTERM closes idle keep-alive and preconnected connections at once and exits 0 in under 2 s", async () => {
    // Like a browser tab: several kept-alive connections, idle when the signal arrives.
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxSockets: 4 });
    const statuses = await Promise.all([1, 2, 3, 4].map(() => get(agent, `${server.url}/healthz`)));
    expect(statuses).toEqual([200, 200, 200, 200]);
    const idleSockets = Object.values(agent.freeSockets).flat();
    expect(idleSockets.length).toBeGreaterThan(0);
    // Chromium also opens spare connections before it has a request for them (preconnect):
    // Node's closeIdleConnections() does not count those as idle.
    const preconnected = net.connect(server.port, "127.0.0.1");
    await new Promise((resolve) => preconnected.once("connect", resolve));
    const closedByServer = Promise.all([...idleSockets, preconnected].map((socket) => new Promise<void>((resolve) => socket!.once("close", () => resolve()))));

    const started = Date.now();
    const exit = await server.kill("SIGTERM");
    const elapsedMs = Date.now() - started;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsedMs).toBeLessThan(2000);
    await closedByServer;
    agent.destroy();
  });
});
