import { afterAll, describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { FaultMode, startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep, waitFor } from "./support/metrics.js";
import { banner } from "./support/tabs.js";

// Issue 12: a send refused with 400 is shown failed (not retried forever); once the cause is gone
// the user's Retry delivers it, once.
describe("outbox: a refused send, then Retry", () => {
  const world = useBrowserWorld();
  let proxy: FaultProxy | undefined;
  afterAll(async () => proxy?.close());

  it("shows a 400 as failed with Retry and Discard; Retry after the fix delivers it once", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    proxy = await startFaultProxy(server.url, RestPath.messages);
    const app = await configureAndSignIn(driven, proxy.url, "alice", { backoffBaseMs: 200 });
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await app.getByTestId(`conversation-${bob.user.id}`).click();
    await app.getByTestId("composer").waitFor();

    // No socket (so the send falls back to REST), and REST refuses sends with 400.
    proxy.mode = FaultMode.refuseSends;
    proxy.dropConnections();
    await waitFor(async () => !(await banner(app, ConnectionState.open).isVisible()), 15_000, "the socket is gone");
    const body = `refused ${Date.now()}`;
    await app.getByTestId("composer").fill(body);
    await app.getByTestId("composer").press("Enter");
    const failed = app.locator('[data-testid="message"][data-state="failed"]', { hasText: body });
    await failed.waitFor({ timeout: 10_000 });
    await failed.getByTestId("discard").waitFor();
    expect(proxy.refusedSends).toBe(1);
    await sleep(2000); // failed for good: not retried by itself (the backoff here is 200 ms)
    expect(proxy.refusedSends).toBe(1);
    expect(await failed.count()).toBe(1);

    proxy.mode = FaultMode.pass;
    await failed.getByTestId("retry").click();
    const received = async () => {
      const response = await api<{ messages: ChatMessage[] }>(server.url, bob.accessToken, "GET", `${RestPath.messages}?peerId=${alice.user.id}&limit=50`);
      return response.body.messages.filter((message) => message.body === body);
    };
    await waitFor(async () => (await received()).length >= 1, 20_000, "bob received the retried message");
    await sleep(1500);
    expect(await received()).toHaveLength(1);
    await app.locator('[data-testid="message"][data-state="sent"]', { hasText: body }).waitFor({ timeout: 10_000 });
  });
});
