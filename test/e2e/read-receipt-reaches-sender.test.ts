import { describe, it } from "vitest";
import { RestPath, type ChatMessage } from "../../shared/protocol/index.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { api, login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";

// Issue 12: each of my messages shows its state; "Read" arrives by itself (the server pushes a
// `read` event to the sender when the recipient marks the conversation read).
describe("read receipt", () => {
  const world = useBrowserWorld();

  it("a sent message turns Read in the sender's tab when the recipient reads it", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    const app = await configureAndSignIn(driven, server.url, "alice");
    const alice = await login(server.url, "alice");
    const bob = await login(server.url, "bob");
    await app.getByTestId(`conversation-${bob.user.id}`).click();
    const body = `read me ${Date.now()}`;
    await app.getByTestId("composer").fill(body);
    await app.getByTestId("composer").press("Enter");
    const mine = app.locator('[data-testid="message"].mine', { hasText: body });
    await mine.and(app.locator('[data-state="sent"]')).waitFor({ timeout: 10_000 });

    const history = await api<{ messages: ChatMessage[] }>(server.url, bob.accessToken, "GET", `${RestPath.messages}?peerId=${alice.user.id}`);
    const sent = history.body.messages.find((message) => message.body === body)!;
    await api(server.url, bob.accessToken, "POST", RestPath.messagesRead, { peerId: alice.user.id, upToMessageId: sent.id });
    await mine.and(app.locator('[data-state="read"]')).waitFor({ timeout: 5000 });
  });
});
