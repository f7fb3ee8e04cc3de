import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUEST_ID_HEADER, RestErrorCode, RestPath, type LoginResponse, type RestError } from "../../shared/protocol/index.js";
import { createLogger } from "../../server/src/log/logger.js";
import { login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

describe("an unexpected error in a request (the database closed under the server)", () => {
  let server: TestServer;
  let alice: LoginResponse;
  let log = "";
  beforeAll(async () => {
    const capture = new PassThrough();
    capture.on("data", (chunk: Buffer) => (log += chunk.toString()));
    server = await startTestServer({}, { logger: createLogger({ level: "info", destination: capture }) });
    alice = await login(server.url, "alice");
  });
  afterAll(async () => server?.stop());

  it("answers 500 JSON with a request id that is in the header, the body and the log line", async () => {
    const ok = await fetch(`${server.url}${RestPath.unreadCount}`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get(REQUEST_ID_HEADER)).toMatch(/^[0-9a-f-]{36}$/);

    await server.server.db.close();
    const res = await fetch(`${server.url}${RestPath.unreadCount}`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as RestError;
    expect(body.error.code).toBe(RestErrorCode.internal);
    const requestId = res.headers.get(REQUEST_ID_HEADER);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.requestId).toBe(requestId);
    expect(JSON.stringify(body)).not.toMatch(/\bat \w|node_modules|\.ts:\d/); // no stack trace

    await new Promise((resolve) => setTimeout(resolve, 50));
    const line = log
      .trim()
      .split("\n")
      .map((text) => JSON.parse(text) as { msg: string; requestId?: string; route?: string; err?: Record<string, unknown> })
      .find((entry) => entry.requestId === requestId);
    expect(line?.msg).toBe("unhandled request error");
    expect(line?.route).toBe(RestPath.unreadCount);
    expect(Object.keys(line?.err ?? {}).sort()).toEqual(expect.arrayContaining(["message", "type"]));
  });
});
