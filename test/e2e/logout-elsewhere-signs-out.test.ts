import { describe, expect, it } from "vitest";
import { RestPath, type LoginResponse } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric, sleep, waitFor } from "./support/metrics.js";
import { allShow } from "./support/tabs.js";

// Issue 9 item 5: "log out everywhere" from another device closes the extension's socket with
// 1008 Session ended; every tab shows signed out, the worker forgets its tokens, and it does not
// try again by itself.
describe("logged out everywhere from another device", () => {
  const world = useBrowserWorld();

  it("every tab goes signed-out at once, the tokens are gone, and no reconnect follows", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const app = await configureAndSignIn(driven, server.url, "alice");
    const web = await driven.open(`${server.url}/`);
    await allShow([app, web], ConnectionState.open);

    const elsewhere = (await (
      await fetch(`${server.url}${RestPath.login}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice", password: "demo" }),
      })
    ).json()) as LoginResponse;
    const out = await fetch(`${server.url}${RestPath.logoutAll}`, { method: "POST", headers: { authorization: `Bearer ${elsewhere.accessToken}` } });
    expect(out.status).toBe(204);

    await allShow([app, web], ConnectionState.signedOut, 10_000);
    await Promise.all([app, web].map((page) => page.getByTestId("sign-in").waitFor()));
    const worker = await driven.serviceWorker();
    expect(await worker.evaluate(async () => (await chrome.storage.local.get("auth")).auth ?? null)).toBeNull();

    await waitFor(async () => (await metric(server, "switchboard_ws_connections")) === 0, 5000, "socket closed");
    const connects = await metric(server, "switchboard_ws_connects_total");
    await sleep(3000);
    expect(await metric(server, "switchboard_ws_connects_total")).toBe(connects);
  });
});
