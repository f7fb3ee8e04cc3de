import { afterAll, describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import type { PgliteWorkerDb } from "../../server/src/store/pglite-worker-db.js";
import { api, login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

/**
 * A real server on the embedded default whose PGlite worker thread dies: the loss reaches the
 * server's handler once (main.ts then shuts down and exits 1), and requests fail instead of hanging.
 */
describe("the embedded database's worker dies under a running server", () => {
  let server: TestServer | undefined;
  afterAll(async () => server?.stop());

  it("reports the loss once, and a request that needs the database fails at once", async () => {
    const lost: Error[] = [];
    server = await startTestServer({}, { onDatabaseLost: (error) => lost.push(error) });
    const session = await login(server.url, "alice");

    await (server.server.db as PgliteWorkerDb).thread.terminate();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lost).toHaveLength(1);
    expect(lost[0]!.message).toMatch(/PGlite worker thread\) stopped unexpectedly/);

    const started = Date.now();
    const conversations = await api(server.url, session.accessToken, "GET", RestPath.conversations);
    expect(conversations.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(5000);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
  });
});
