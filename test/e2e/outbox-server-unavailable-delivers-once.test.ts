import { afterAll, describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { FaultMode, startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep, waitFor } from "./support/metrics.js";
import { banner } from "./support/tabs.js";

// Issue 12: the server answers 503 (socket and REST, through a loopback proxy in front of it) to
// the first attempts; the typed messages wait with backoff and are delivered once when it recovers.
describe("outbox: server unavailable, then recovered", () => {
  const world = useBrowserWorld();
  let proxy: FaultProxy | undefined;
  afterAll(async () => proxy?.close());

  it("retries through 503s and delivers each message once after the server recovers", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    proxy = await startFaultProxy(server.url, RestPath.messages);
    const app = await configureAndSignIn(driven, proxy.url, "alice", { backoffBaseMs: 200 });
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await app.getByTestId(`conversation-${bob.user.id}`).click();
    await app.getByTestId("composer").waitFor();

    proxy.mode = FaultMode.unavailable;
    proxy.dropConnections();
    await waitFor(async () => !(await banner(app, ConnectionState.open).isVisible()), 15_000, "the socket is gone");
    const prefix = `through 503 ${Date.now()} #`;
    const bodies = [1, 2, 3].map((n) => `${prefix}${n}`);
    for (const body of bodies) {
      await app.getByTestId("composer").fill(body);
      await app.getByTestId("composer").press("Enter");
      await app.locator('[data-testid="message"][data-state="pending"]', { hasText: body }).waitFor({ timeout: 5000 });
    }
    await waitFor(() => (proxy?.faults ?? 0) >= 6, 15_000, "several attempts answered 503");
    expect(await app.locator('[data-testid="message"][data-state="failed"]').count()).toBe(0);

    proxy.mode = FaultMode.pass;
    const received = async () => {
      const response = await api<{ messages: ChatMessage[] }>(server.url, bob.accessToken, "GET", `${RestPath.messages}?peerId=${alice.user.id}&limit=50`);
      return response.body.messages.filter((message) => message.body.startsWith(prefix));
    };
    await waitFor(async () => (await received()).length >= bodies.length, 30_000, "bob received the messages");
    await sleep(1500);
    expect((await received()).map((message) => message.body)).toEqual(bodies);
    await waitFor(
      async () => (await app.locator('[data-testid="message"][data-state="sent"]', { hasText: prefix }).count()) === bodies.length,
      10_000,
      "all shown sent",
    );
  });
});
