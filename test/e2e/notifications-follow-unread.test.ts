/// <reference types="chrome" />  // `chrome.*` inside worker.evaluate callbacks
import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { APP_PAGE, configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep, waitFor } from "./support/metrics.js";

// Issue 12, notifications: with the Options toggle on, a message arriving while no Switchboard tab
// is in front shows one notification per conversation (updated, not repeated); opening and reading
// the conversation clears it; a message arriving while the conversation is open shows none.
describe("desktop notifications", () => {
  const world = useBrowserWorld();

  it("one per conversation while no tab is focused, gone once read, absent while the conversation is open", { timeout: 120_000 }, async () => {
    const { server, driven } = world;
    const app = await configureAndSignIn(driven, server.url, "alice");
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await app.getByTestId(`conversation-${bob.user.id}`).waitFor();
    const worker = await driven.serviceWorker();
    const shown = () => worker.evaluate(async () => Object.keys(await chrome.notifications.getAll()));

    // Off until the user turns it on: nothing is shown.
    await app.close();
    const send = (body: string) =>
      api<{ message: ChatMessage }>(server.url, bob.accessToken, "POST", RestPath.messages, {
        to: alice.user.id,
        body,
        clientMsgId: `n-${body}-${Date.now()}`,
      });
    await send("before the toggle");
    await sleep(1500);
    expect(await shown()).toEqual([]);

    const options = await driven.open(`${APP_PAGE.replace("app.html", "options.html")}`);
    await options.getByTestId("notifications-toggle").check();
    await waitFor(
      async () => (await worker.evaluate(async () => (await chrome.storage.local.get("notifications-enabled"))["notifications-enabled"])) === true,
      5000,
      "toggle stored",
    );
    await options.close();

    await send("first");
    await waitFor(async () => (await shown()).length === 1, 10_000, "a notification for bob's conversation");
    await send("second");
    await sleep(1000);
    expect(await shown()).toEqual([`switchboard-conversation-${bob.user.id}`]);

    // Reading the conversation (opened as a notification's click opens it) clears the notification.
    const reading = await driven.open(`${APP_PAGE}?peer=${bob.user.id}`);
    await reading.getByTestId("messages").getByText("second").waitFor({ timeout: 10_000 });
    await waitFor(async () => (await shown()).length === 0, 10_000, "the notification cleared once read");

    // While the conversation is open in the focused tab, a new message shows no notification.
    await reading.bringToFront();
    await send("while open");
    await reading.getByTestId("messages").getByText("while open").waitFor({ timeout: 10_000 });
    await sleep(1000);
    expect(await shown()).toEqual([]);
  });
});
