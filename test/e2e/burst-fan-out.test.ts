import { describe, expect, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { waitFor } from "./support/metrics.js";
import { openTabs } from "./support/tabs.js";

/** Records the kind of every hub message the page hears (what the content script re-posts). */
const RECORD_HUB_KINDS = `(() => {
  window.hubKinds = [];
  window.addEventListener("message", (event) => {
    if (event.source === window && event.data && event.data.switchboard === "from-hub") window.hubKinds.push(event.data.payload.kind);
  });
})()`;

// Changes closer together than a frame reach each tab as one batch (one render): every one of
// them still lands in every tab's DOM, once and in order.
describe("a burst of messages", () => {
  const world = useBrowserWorld();

  it("reaches every tab complete and in order, batched per frame", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    await configureAndSignIn(driven, server.url, "alice");
    const { web, app } = await openTabs(driven, server.url, 2);
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    for (const page of [...web, app]) await page.getByTestId(`conversation-${bob.user.id}`).waitFor();
    // web[0] shows the conversation itself (the message list); the others show the row and the counts.
    await web[0]!.getByTestId(`conversation-${bob.user.id}`).click();
    await web[0]!.getByTestId("messages").waitFor({ state: "attached" });
    await web[1]!.evaluate(RECORD_HUB_KINDS);

    const burst = 20;
    const stamp = Date.now();
    const bodies = Array.from({ length: burst }, (_, i) => `burst ${stamp} #${String(i).padStart(2, "0")}`);
    // All at once: the server stores them within a few ms of each other.
    const sent = await Promise.all(
      bodies.map((body, i) =>
        api<{ message: ChatMessage }>(server.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: `burst-${stamp}-${i}` }),
      ),
    );
    expect(sent.every((response) => response.status === 201)).toBe(true);
    const byId = sent.map((response) => response.body.message).sort((a, b) => a.id - b.id);
    const last = byId.at(-1)!.body;

    // The open conversation lists every message once, in server order.
    await waitFor(async () => (await web[0]!.getByTestId("message").count()) >= burst, 5000, "all messages in the open conversation");
    const shown = await web[0]!.getByTestId("message").allTextContents();
    expect(shown.filter((text) => text.startsWith(`burst ${stamp}`))).toEqual(byId.map((m) => m.body));

    // The other tabs: the row shows the newest (a reducer fed out of order would keep an older one).
    // (No unread check: the open conversation marks the burst read as it arrives.)
    for (const page of [web[1]!, app]) await page.getByTestId(`conversation-${bob.user.id}`).getByText(last).waitFor({ timeout: 5000 });

    // Some of them arrived together (the open conversation's mark-reads add messages of their own).
    const kinds = (await web[1]!.evaluate("window.hubKinds")) as string[];
    expect(kinds).toContain("batch");
  });
});
