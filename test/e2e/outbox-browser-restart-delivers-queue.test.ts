import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { APP_PAGE, configureAndSignIn, launchDrivenBrowser, type DrivenBrowser } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { FaultMode, startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import type { ServerProcess } from "../helpers/server-process.js";
import { startE2eServer } from "./support/e2e-server.js";
import { sleep, waitFor } from "./support/metrics.js";
import { banner } from "./support/tabs.js";

// Issue 12: the browser quits with messages still queued (the server unreachable); started again on
// the same profile, the extension sends them — the outbox is in storage.local, which a browser
// restart keeps (storage.session does not).
describe("outbox: the browser restarts with the queue non-empty", () => {
  let server: ServerProcess;
  let proxy: FaultProxy;
  let profile: string;
  const browsers: DrivenBrowser[] = [];
  beforeAll(async () => {
    server = await startE2eServer();
    proxy = await startFaultProxy(server.url, RestPath.messages);
    profile = await mkdtemp(path.join(os.tmpdir(), "switchboard-outbox-profile-"));
  });
  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await proxy?.close();
    await server?.stop();
    await rm(profile, { recursive: true, force: true });
  });

  it("delivers what was queued before the browser quit, once", { timeout: 120_000 }, async () => {
    const first = await launchDrivenBrowser({ userDataDir: profile });
    browsers.push(first);
    const app = await configureAndSignIn(first, proxy.url, "alice", { backoffBaseMs: 200 });
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await app.getByTestId(`conversation-${bob.user.id}`).click();
    await app.getByTestId("composer").waitFor();

    proxy.mode = FaultMode.unavailable;
    proxy.dropConnections();
    await waitFor(async () => !(await banner(app, ConnectionState.open).isVisible()), 15_000, "the socket is gone");
    const prefix = `across a browser restart ${Date.now()} #`;
    const bodies = [1, 2].map((n) => `${prefix}${n}`);
    for (const body of bodies) {
      await app.getByTestId("composer").fill(body);
      await app.getByTestId("composer").press("Enter");
      await app.locator('[data-testid="message"][data-state="pending"]', { hasText: body }).waitFor({ timeout: 5000 });
    }
    await first.close();
    browsers.pop();

    proxy.mode = FaultMode.pass;
    const second = await launchDrivenBrowser({ userDataDir: profile });
    browsers.push(second);
    await second.open(APP_PAGE); // wakes the worker (it would also wake on its alarm)
    const received = async () => {
      const response = await api<{ messages: ChatMessage[] }>(server.url, bob.accessToken, "GET", `${RestPath.messages}?peerId=${alice.user.id}&limit=50`);
      return response.body.messages.filter((message) => message.body.startsWith(prefix));
    };
    await waitFor(async () => (await received()).length >= bodies.length, 30_000, "bob received the queued messages");
    await sleep(1500);
    expect((await received()).map((message) => message.body)).toEqual(bodies);
  });
});
