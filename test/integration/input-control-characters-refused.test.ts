import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClientFrameType,
  FrameErrorCode,
  RestErrorCode,
  RestPath,
  ServerFrameType,
  type ErrorFrame,
  type LoginResponse,
  type RestError,
} from "../../shared/protocol/index.js";
import { createLogger } from "../../server/src/log/logger.js";
import { api, connectChat, login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

// Each value is personal or private text with a NUL (or another control character) inside.
const SECRET = "Confidential-7f3a";
const withNul = (label: string) => `${SECRET}-${label}\u0000tail`;

describe("NUL and other control characters in input (real server, captured log)", () => {
  let server: TestServer;
  let alice: LoginResponse;
  let bob: LoginResponse;
  let log = "";
  beforeAll(async () => {
    const capture = new PassThrough();
    capture.on("data", (chunk: Buffer) => (log += chunk.toString()));
    server = await startTestServer({}, { logger: createLogger({ level: "debug", destination: capture }) });
    [alice, bob] = await Promise.all([login(server.url, "alice"), login(server.url, "bob")]);
  });
  afterAll(async () => server?.stop());

  const rejectsField = async (method: string, path: string, body: Record<string, unknown>, field: string, token: string | null = alice.accessToken) => {
    const res = token
      ? await api<RestError>(server.url, token, method, path, body)
      : await fetch(`${server.url}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as RestError,
        }));
    expect(res.status, `${method} ${path} ${field}`).toBe(400);
    expect(res.body.error.code).toBe(RestErrorCode.invalidBody);
    expect(res.body.error.message).toContain(`Invalid ${field}:`);
  };

  it("refuses them over REST with a 400 naming the field", async () => {
    await rejectsField("POST", RestPath.messages, { to: bob.user.id, body: withNul("body"), clientMsgId: "c-1" }, "body");
    await rejectsField("POST", RestPath.messages, { to: bob.user.id, body: "hello", clientMsgId: withNul("id") }, "clientMsgId");
    await rejectsField("POST", RestPath.messages, { to: bob.user.id, body: `${SECRET}\u001b[2J escape` }, "body");
    await rejectsField("PATCH", RestPath.profileMe, { displayName: withNul("name") }, "displayName");
    await rejectsField("PATCH", RestPath.profileMe, { displayName: `${SECRET}\nsecond line` }, "displayName");
    await rejectsField("PATCH", RestPath.profileMe, { bio: withNul("bio") }, "bio");
    await rejectsField("POST", RestPath.login, { username: withNul("user"), password: "demo" }, "username", null);
  });

  it("keeps tabs and line breaks where text may span lines", async () => {
    const sent = await api(server.url, alice.accessToken, "POST", RestPath.messages, {
      to: bob.user.id,
      body: "line one\n\tline two\r\n",
      clientMsgId: "multi-line-ok",
    });
    expect(sent.status).toBe(201);
    expect((await api(server.url, alice.accessToken, "PATCH", RestPath.profileMe, { bio: "first\nsecond" })).status).toBe(200);
  });

  it("refuses them in a socket send frame with an error frame naming the field, and the socket stays usable", async () => {
    const socket = connectChat(server.wsUrl, alice.user.id, { token: alice.accessToken });
    await socket.next((f) => f.type === ServerFrameType.welcome);
    socket.send({ type: ClientFrameType.send, clientMsgId: "ws-1", to: bob.user.id, body: withNul("ws-body") });
    const bodyError = await socket.next<ErrorFrame>((f) => f.type === ServerFrameType.error);
    expect(bodyError.code).toBe(FrameErrorCode.invalidFrame);
    expect(bodyError.message).toContain("Invalid body:");
    // Its own clientMsgId is valid, so the error names it: the client stops waiting for an ack.
    expect(bodyError.clientMsgId).toBe("ws-1");
    socket.send({ type: ClientFrameType.send, clientMsgId: withNul("ws-id"), to: bob.user.id, body: "hi" });
    const idError = await socket.next<ErrorFrame>((f) => f.type === ServerFrameType.error && f !== bodyError);
    expect(idError.message).toContain("Invalid clientMsgId:");
    expect(idError.clientMsgId).toBeUndefined();
    socket.send({ type: ClientFrameType.send, clientMsgId: "ws-ok", to: bob.user.id, body: "still fine" });
    await socket.next((f) => f.type === ServerFrameType.ack);
    await socket.close();
  });

  it("logs none of the refused values", async () => {
    // pino writes asynchronously to the stream: give the last lines a moment.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(SECRET);
    expect(log).not.toMatch(/"level":50/);
  });
});
