/// <reference types="chrome" />  // `chrome.*` inside worker.evaluate callbacks
import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import type { Snapshot } from "../../shared/sdk/snapshot.js";
import { APP_PAGE, configureAndSignIn, EXTENSION_URL } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric, waitFor } from "./support/metrics.js";
import { allShow, unreadShown } from "./support/tabs.js";

const UNREAD_GET = `route="GET ${RestPath.unreadCount}",status="200"`;

// Issue 5, test 4: the worker is stopped through CDP (as Chrome does when idle); it restarts warm
// from storage.session, reconnects and resumes; a message sent while it was down arrives once.
describe("service worker stopped and restarted", () => {
  const world = useBrowserWorld();

  it("restarts, reconnects, resumes (no REST refetch) and shows the missed message once", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const signedIn = await configureAndSignIn(driven, server.url, "alice");
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await signedIn.getByTestId(`conversation-${bob.user.id}`).waitFor();
    await signedIn.close(); // no tab left to wake the worker by itself
    const unreadGetsBefore = await metric(server, "switchboard_http_requests_total", UNREAD_GET);

    const blank = driven.context.pages()[0]!;
    const cdp = await driven.context.newCDPSession(blank);
    const running: string[] = [];
    cdp.on("ServiceWorker.workerVersionUpdated", ({ versions }) => {
      for (const version of versions) if (version.scriptURL.startsWith(EXTENSION_URL) && version.runningStatus === "running") running.push(version.versionId);
    });
    await cdp.send("ServiceWorker.enable");
    await waitFor(() => running.length > 0, 5000, "the extension's worker is listed");
    await cdp.send("ServiceWorker.stopWorker", { versionId: running.at(-1)! });
    await waitFor(async () => (await metric(server, "switchboard_ws_connections")) === 0, 5000, "the socket closed with the worker");

    const body = `sent while the worker was down ${Date.now()}`;
    const sent = await api<{ message: ChatMessage }>(server.url, bob.accessToken, "POST", RestPath.messages, {
      to: alice.user.id,
      body,
      clientMsgId: `sw-${Date.now()}`,
    });
    expect(sent.status).toBe(201);

    // Opening a tab wakes the worker (its port); it rebuilds from storage and resumes.
    const app = await driven.open(APP_PAGE);
    await allShow([app], ConnectionState.open);
    await app.getByTestId(`conversation-${bob.user.id}`).getByText(body).waitFor({ timeout: 10_000 });
    await waitFor(async () => (await unreadShown(app)) === "1", 5000, "unread 1");
    expect(await app.getByTestId(`conversation-${bob.user.id}`).getByTestId("conversation-unread").textContent()).toBe("1");

    const worker = await driven.serviceWorker();
    const snapshot = await worker.evaluate(async () => (await chrome.storage.session.get("snapshot")).snapshot as unknown);
    expect((snapshot as Snapshot).recent.filter((m) => m.body === body)).toHaveLength(1);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(2);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    // Resumed from the stored position: the event stream filled the gap, no REST refetch was needed.
    expect(await metric(server, "switchboard_http_requests_total", UNREAD_GET)).toBe(unreadGetsBefore);
  });
});
