import { describe, expect, it } from "vitest";
import { RestPath, type LoginResponse } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric, waitFor, sleep } from "./support/metrics.js";
import { allShow } from "./support/tabs.js";

const ACCESS_TTL_S = 4;
const REFRESH_OK = `route="POST ${RestPath.refresh}",status="200"`;

// Issue 5, test 6: server restart (1012) → reconnect with backoff; an expired access token is
// refreshed silently; a refused refresh token → "Sign in", and no retry loop.
describe("restart, silent refresh, refused refresh", () => {
  // The stolen token is reused after the access token expired: past a reuse interval shorter than that.
  const world = useBrowserWorld({ ACCESS_TOKEN_TTL_S: String(ACCESS_TTL_S), REFRESH_REUSE_INTERVAL_S: "2" });

  it("reconnects after SIGTERM with an expired token (refresh, no user action), then asks to sign in when the refresh token is refused", {
    timeout: 150_000,
  }, async () => {
    const { server, driven } = world;
    const app = await configureAndSignIn(driven, server.url, "alice", { backoffBaseMs: 200 });
    const web = await driven.open(`${server.url}/`);
    await allShow([app, web], ConnectionState.open);

    // 1. The access token expires while connected; then the server restarts (1012 Service restart).
    await sleep((ACCESS_TTL_S + 1) * 1000);
    await server.kill("SIGTERM");
    await allShow([app, web], ConnectionState.backoff, 10_000);
    await server.restart();
    // Reconnecting with the expired token gets 1008 Token expired → refresh (rotation) → open.
    await allShow([app, web], ConnectionState.open, 60_000);
    expect(await metric(server, "switchboard_http_requests_total", REFRESH_OK)).toBeGreaterThanOrEqual(1);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
    expect(await web.getByTestId("sign-in").count()).toBe(0);

    // 2. Someone else uses the extension's refresh token first: the server sees reuse and revokes the family.
    const worker = await driven.serviceWorker();
    const { refreshToken } = await worker.evaluate(async () => (await chrome.storage.local.get("auth")).auth as { refreshToken: string });
    const stolen = await fetch(`${server.url}${RestPath.refresh}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken }),
    });
    expect(stolen.status).toBe(200);
    await (stolen.json() as Promise<LoginResponse>);

    // Once the access token expired, the next request (a profile edit) needs a refresh, which is refused.
    await sleep((ACCESS_TTL_S + 1) * 1000);
    await web.getByTestId("profile-edit").click();
    await web.locator('[data-testid="profile-form"] input[name="bio"]').fill("after expiry");
    await web.locator('[data-testid="profile-form"] button[type="submit"]').click();
    await allShow([app, web], ConnectionState.authRequired);
    await Promise.all([app, web].map((page) => page.getByTestId("sign-in").waitFor()));

    // No retry loop: the socket stays closed.
    await waitFor(async () => (await metric(server, "switchboard_ws_connections")) === 0, 5000, "socket closed");
    const connects = await metric(server, "switchboard_ws_connects_total");
    await sleep(5000);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(connects);
  });
});
