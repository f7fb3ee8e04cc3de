import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { profileGets, sleep } from "./support/metrics.js";
import { allShow, openTabs } from "./support/tabs.js";

// Issue 5, test 3: a profile change (PATCH from a tab; an admin's role change) reaches every tab,
// with at most one profile GET per change and none from tab focus or navigation.
describe("profile changes fan out without polling", () => {
  const world = useBrowserWorld();

  it("PATCH from one tab and an admin role change reach every tab; ≤ 1 GET per change; 0 from focus/navigation", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    await configureAndSignIn(driven, server.url, "alice");
    const { web, all } = await openTabs(driven, server.url, 3);
    const profileShown = (text: string, testId: string) =>
      Promise.all(all.map((page) => page.getByTestId(testId).getByText(text, { exact: true }).waitFor({ timeout: 5000 })));

    // 1. PATCH from a web tab.
    let before = await profileGets(server);
    const name = `Alice ${Date.now() % 10_000}`;
    await web[1]!.getByTestId("profile-edit").click();
    await web[1]!.locator('[data-testid="profile-form"] input[name="displayName"]').fill(name);
    await web[1]!.locator('[data-testid="profile-form"] button[type="submit"]').click();
    await profileShown(name, "profile-name");
    await sleep(500); // let the `profile` event land
    expect((await profileGets(server)) - before).toBeLessThanOrEqual(1);

    // 2. An admin (carol) changes alice's role.
    before = await profileGets(server);
    const carol = await login(server.url, "carol");
    const alice = await login(server.url, "alice");
    const changed = await api(server.url, carol.accessToken, "PUT", RestPath.adminRole(alice.user.id), { role: "moderator" });
    expect(changed.status).toBeLessThan(300);
    await profileShown("moderator", "profile-role");
    await sleep(500);
    expect((await profileGets(server)) - before).toBe(1);

    // 3. Focus and navigation: no profile request at all.
    before = await profileGets(server);
    for (const page of all) await page.bringToFront();
    for (const page of web) await page.reload();
    const another = await driven.open(`${server.url}/`);
    await allShow([...web, another], ConnectionState.open);
    await another.getByTestId("profile-role").getByText("moderator").waitFor();
    await sleep(500);
    expect(await profileGets(server)).toBe(before);
  });
});
