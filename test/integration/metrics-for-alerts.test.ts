import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventKind, RestPath, ServerFrameType } from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";
import { until } from "../helpers/until.js";

/** One sample from the server's /metrics text (0 when absent). */
async function sample(server: TestServer, series: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("the metrics the alerts use count real traffic", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ REPLACEMENT_LOOP_THRESHOLD: "3", RECONNECT_WINDOW_S: "30" });
  });
  afterAll(async () => server?.stop());

  it("a first connect is not a reconnect; a connect after the user's close within the window is", async () => {
    const alice = await login(server.url, "alice");
    const first = connectChat(server.wsUrl, alice.user.id, { token: alice.accessToken });
    await first.next((f) => f.type === ServerFrameType.welcome);
    expect(await sample(server, "switchboard_ws_reconnects_total")).toBe(0);
    await first.close();
    const second = connectChat(server.wsUrl, alice.user.id, { token: alice.accessToken });
    await second.next((f) => f.type === ServerFrameType.welcome);
    expect(await sample(server, "switchboard_ws_reconnects_total")).toBe(1);
    await second.close();
  });

  it("counts a user replaced more than REPLACEMENT_LOOP_THRESHOLD times as one user in a loop", async () => {
    const bob = await login(server.url, "bob");
    expect(await sample(server, "switchboard_ws_replacement_loop_users")).toBe(0);
    let latest = connectChat(server.wsUrl, bob.user.id, { token: bob.accessToken });
    await latest.next((f) => f.type === ServerFrameType.welcome);
    for (let i = 0; i < 4; i++) {
      const next = connectChat(server.wsUrl, bob.user.id, { token: bob.accessToken });
      await next.next((f) => f.type === ServerFrameType.welcome);
      await latest.closed; // replaced
      latest = next;
    }
    expect(await sample(server, "switchboard_ws_replacement_loop_users")).toBe(1);
    await latest.close();
  });

  it("observes the delivery latency of a live message, and profile answers by result", async () => {
    const carol = await login(server.url, "carol");
    const alice = await login(server.url, "alice");
    const recipient = await connectLive(server.wsUrl, carol);
    const before = await sample(server, "switchboard_delivery_latency_seconds_count");
    await api(server.url, alice.accessToken, "POST", RestPath.messages, { to: carol.user.id, body: "hello", clientMsgId: "latency-1" });
    await recipient.next((f) => f.type === ServerFrameType.event && f.event.kind === EventKind.message);
    expect(await until(async () => (await sample(server, "switchboard_delivery_latency_seconds_count")) === before + 1, 5000)).toBe(true);
    expect(await sample(server, "switchboard_delivery_latency_seconds_sum")).toBeLessThan(5);
    await recipient.close();

    // supertest, not fetch: Node's fetch adds Cache-Control: no-cache, which defeats 304.
    const full = await request(server.url).get(RestPath.profileMe).set("Authorization", `Bearer ${carol.accessToken}`);
    const notModified = await request(server.url)
      .get(RestPath.profileMe)
      .set("Authorization", `Bearer ${carol.accessToken}`)
      .set("If-None-Match", full.headers.etag!);
    expect([full.status, notModified.status]).toEqual([200, 304]);
    expect(await sample(server, 'switchboard_profile_requests_total{result="200"}')).toBe(1);
    expect(await sample(server, 'switchboard_profile_requests_total{result="304"}')).toBe(1);
  });
});
