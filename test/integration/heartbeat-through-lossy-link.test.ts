import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  ClientFrameType,
  CloseCode,
  CloseReason,
  EventKind,
  RestPath,
  ServerFrameType,
  WS_PATH_PREFIX,
  type EventFrame,
  type ServerFrame,
} from "../../shared/protocol/index.js";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { Connection, type SocketConstructor } from "../../shared/hub/connection.js";
import { api, login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";
import { startLossyProxy, type LossyProxy } from "../helpers/lossy-proxy.js";
import { until } from "../helpers/until.js";
import { metric } from "../e2e/support/metrics.js";

// Issue 9, item 11: a bad link must not look dead, a dead link must. The extension's real
// connection state machine (with `ws` injected) talks to the real server through a proxy that
// adds latency and stalls. Short heartbeat settings: the server gives up after
// interval × (misses + 1) = 1.2 s without a pong.
const INTERVAL_MS = 300;
const MISSES = 3;
const TOLERANCE_MS = INTERVAL_MS * (MISSES + 1);
/** The client's own dead-link timer (2.5 keepalives of silence, 3 s) is longer than the long stall, so it is the server's 4001 that ends the socket. */
const KEEPALIVE_MS = 1200;

describe("heartbeat through a slow, stalling link", () => {
  let t: TestServer;
  let proxy: LossyProxy;
  beforeAll(async () => {
    t = await startTestServer({ HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), HEARTBEAT_MAX_MISSED: String(MISSES) });
    proxy = await startLossyProxy({ host: "127.0.0.1", port: t.server.port });
  });
  afterAll(async () => {
    await proxy?.close();
    await t?.stop();
  });

  it("jitter and short stalls: no 4001, no reconnect; a stall past the tolerance: 4001, reconnect, resume, nothing lost", { timeout: 60_000 }, async () => {
    const alice = await login(t.url, "alice");
    const bob = await login(t.url, "bob");
    const states: ConnectionState[] = [];
    const logs: string[] = [];
    const events: EventFrame[] = [];
    let cursor = { epoch: "", seq: 0 };
    let welcomes = 0;
    let resumes = 0;
    // What the hub does: resume from the last event seen after every welcome.
    const onFrame = (frame: ServerFrame) => {
      if (frame.type === ServerFrameType.welcome) {
        welcomes += 1;
        connection.send({ type: ClientFrameType.resume, ...cursor });
      } else if (frame.type === ServerFrameType.resumed) {
        resumes += 1;
        if (frame.epoch !== undefined && frame.seq !== undefined && !frame.recovered) cursor = { epoch: frame.epoch, seq: frame.seq };
      } else if (frame.type === ServerFrameType.event) {
        events.push(frame);
        cursor = { epoch: frame.epoch, seq: frame.seq };
      }
    };
    const connection: Connection = new Connection(
      {
        WebSocket: WebSocket as unknown as SocketConstructor,
        timers: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
        random: () => 0,
        isOnline: () => true,
        credentials: async () => ({ url: `${proxy.wsUrl}${WS_PATH_PREFIX}${alice.user.id}`, accessToken: alice.accessToken }),
        refresh: async () => "refreshed",
        onState: (next) => states.push(next),
        onFrame,
        log: (message) => logs.push(message),
      },
      ConnectionState.connecting,
      { keepaliveMs: KEEPALIVE_MS, backoffBaseMs: 50 },
    );
    const send = (body: string) => api(t.url, bob.accessToken, "POST", RestPath.messages, { to: alice.user.id, body, clientMsgId: `lossy-${body}` });
    const bodies = () => events.flatMap((f) => (f.event.kind === EventKind.message ? [f.event.message.body] : []));
    try {
      connection.start();
      expect(await until(() => connection.state === ConnectionState.open && resumes === 1, 10_000)).toBe(true);

      // A bad link within tolerance: up to 80 ms each way, and a 250 ms stall every 700 ms, for ~4 s.
      proxy.setJitter(80);
      for (let i = 0; i < 6; i++) {
        proxy.stall(250);
        await send(`bad-${i}`);
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
      proxy.setJitter(0);
      expect(await until(() => bodies().length === 6, 5000)).toBe(true);
      expect(await metric(t, "switchboard_ws_heartbeat_timeouts_total")).toBe(0);
      expect(proxy.connections).toBe(1);
      expect(states).not.toContain(ConnectionState.backoff);
      expect(welcomes).toBe(1);

      // A dead link: a stall well past the tolerance. Messages sent meanwhile must still arrive.
      proxy.stall(TOLERANCE_MS + 800);
      for (const body of ["dead-0", "dead-1", "dead-2"]) await send(body);
      expect(await until(async () => (await metric(t, "switchboard_ws_heartbeat_timeouts_total")) === 1, 5000)).toBe(true);
      expect(await until(() => welcomes === 2 && resumes === 2 && connection.state === ConnectionState.open, 10_000)).toBe(true);
      expect(logs).toContain(`connection: closed ${CloseCode.heartbeatTimeout} "${CloseReason.heartbeatTimeout}"`);
      expect(proxy.connections).toBe(2);

      await send("after");
      expect(await until(() => bodies().includes("after"), 5000)).toBe(true);
      // Every message exactly once, in the order sent; seqs strictly increasing.
      expect(bodies()).toEqual(["bad-0", "bad-1", "bad-2", "bad-3", "bad-4", "bad-5", "dead-0", "dead-1", "dead-2", "after"]);
      const seqs = events.map((f) => f.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    } finally {
      connection.stop();
    }
  });
});
