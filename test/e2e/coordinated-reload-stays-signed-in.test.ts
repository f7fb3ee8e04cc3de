import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { allOpen, leaderOf, openWebTabs, signInWeb } from "./support/coordinated-tabs.js";
import { metric, PROFILE_GET_200 } from "./support/metrics.js";

const REFRESH = (status: number) => `route="POST ${RestPath.refresh}",status="${status}"`;

// Reloading every tab, one after another, moves the lead each time; each new leader refreshes its
// access token from the HttpOnly cookie. Nobody is signed out, no refresh family is revoked, and
// the profile is not fetched again (the stored copy is fresh; at most conditional GETs).
describe("reload every coordinated tab", () => {
  const world = useBrowserWorld({}, 1, { extensionDir: null });

  it("still signed in, no refresh refused, no unconditional profile GET", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const tabs = await openWebTabs(driven, server.url, 4);
    await signInWeb(tabs[0]!, "alice");
    await allOpen(tabs);
    await leaderOf(tabs);
    const profile200 = await metric(server, "switchboard_http_requests_total", PROFILE_GET_200);
    const refreshed = await metric(server, "switchboard_http_requests_total", REFRESH(200));

    for (const tab of tabs) {
      await tab.reload();
      await allOpen(tabs);
    }
    await leaderOf(tabs);
    for (const tab of tabs) expect(await tab.getByTestId("sign-in").count()).toBe(0);
    expect(await metric(server, "switchboard_http_requests_total", REFRESH(401))).toBe(0);
    expect(await metric(server, "switchboard_http_requests_total", REFRESH(200))).toBeGreaterThan(refreshed);
    expect(await metric(server, "switchboard_http_requests_total", PROFILE_GET_200)).toBe(profile200);
    expect(await metric(server, "switchboard_ws_connections")).toBe(1);
  });
});
