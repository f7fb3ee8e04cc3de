import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientFrameType, CloseCode, CloseReason, EventKind, RestPath, ServerFrameType, type EventFrame } from "../../shared/protocol/index.js";
import { TokenService } from "../../server/src/auth/tokens.js";
import type { Store } from "../../server/src/store/store.js";
import { api, connectChat, connectLive, login, type ChatClient } from "../helpers/chat-client.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";

const SECRET = "drain-test-secret-drain-test-secret-0123456789";
const SOCKETS = 60;
const RATE = 100; // sockets per second → a 0.6 s window

describe("shutdown drains sockets in slices (a real process)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ env: { JWT_SECRET: SECRET, SHUTDOWN_DRAIN_RATE: String(RATE), SHUTDOWN_TIMEOUT_MS: "10000" } });
  });
  afterAll(async () => server?.stop());

  it("closes every socket with 1012, spread over sockets / SHUTDOWN_DRAIN_RATE, loses nothing, and exits 0", async () => {
    // Tokens for users that need no database row: the socket layer checks the signed subject only.
    const tokens = new TokenService(SECRET, null as unknown as Store, { accessTtlS: 600, refreshTtlS: 600 });
    const clients: ChatClient[] = [];
    for (let i = 0; i < SOCKETS - 2; i++) {
      const userId = 500_000 + i;
      const client = connectChat(server.wsUrl, userId, { token: await tokens.issueAccess({ userId, role: "user", sessionId: `drain-${userId}` }) });
      clients.push(client);
    }
    await Promise.all(clients.map((c) => c.next((f) => f.type === ServerFrameType.welcome, 15_000)));
    // Two real users connect last, so they are drained last: their sockets still work during the drain.
    const [alice, bob] = [await login(server.url, "alice"), await login(server.url, "bob")];
    const aliceSocket = await connectLive(server.wsUrl, alice);
    const bobSocket = await connectLive(server.wsUrl, bob);
    clients.push(aliceSocket, bobSocket);

    const closedAt: number[] = [];
    const closes = clients.map((c) => c.closed.then((close) => (closedAt.push(Date.now()), close)));
    const started = Date.now();
    const exit = server.kill("SIGTERM");
    aliceSocket.send({ type: ClientFrameType.send, clientMsgId: "during-drain", to: bob.user.id, body: "sent while draining" });
    for (const close of await Promise.all(closes)) expect(close).toEqual({ code: CloseCode.serviceRestart, reason: CloseReason.serviceRestart });
    expect(await exit).toEqual({ code: 0, signal: null });

    const spreadMs = Math.max(...closedAt) - Math.min(...closedAt);
    // 60 sockets at 100/s: the last slice starts ~0.5 s after the first (at once, they all close within a few ms).
    expect(spreadMs).toBeGreaterThanOrEqual(400);
    // No second of the drain closes more than the rate (+ one slice of slack for timer jitter).
    const inFirstSecond = closedAt.filter((t) => t - started < 1000).length;
    expect(inFirstSecond).toBeLessThanOrEqual(RATE + Math.ceil(RATE / 10));

    // Nothing lost: the send made during the drain was acked, delivered live, and is stored.
    expect(aliceSocket.frames.some((f) => f.type === ServerFrameType.ack)).toBe(true);
    expect(bobSocket.frames.some((f) => f.type === ServerFrameType.event && (f as EventFrame).event.kind === EventKind.message)).toBe(true);
    await server.restart();
    const history = await api<{ messages: Array<{ body: string }> }>(
      server.url,
      (await login(server.url, "bob")).accessToken,
      "GET",
      `${RestPath.messages}?peerId=${alice.user.id}`,
    );
    expect(history.body.messages.map((m) => m.body)).toContain("sent while draining");
  });
});
