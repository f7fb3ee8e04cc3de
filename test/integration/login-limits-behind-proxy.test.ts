import { afterEach, describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { requestFrom } from "../helpers/http-from-address.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

// The login limits count per client address, which is what `req.ip` says under `trust proxy`.
describe("login limits and the client address behind a proxy (TRUST_PROXY)", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const attempt = (peer: string, forwardedFor: string, username: string, password: string) =>
    requestFrom(peer, `${server!.url}${RestPath.login}`, { body: { username, password }, headers: { "x-forwarded-for": forwardedFor } });

  it("counts per forwarded client when the proxy is trusted (default: loopback)", async () => {
    server = await startTestServer({ LOGIN_MAX_FAILURES_PER_USER_IP: "2", LOGIN_MAX_FAILURES_PER_IP: "50" });
    // One proxy on loopback, two clients behind it.
    expect((await attempt("127.0.0.1", "203.0.113.1", "alice", "x")).status).toBe(401);
    expect((await attempt("127.0.0.1", "203.0.113.1", "alice", "y")).status).toBe(401);
    expect((await attempt("127.0.0.1", "203.0.113.1", "alice", "demo")).status).toBe(429);
    expect((await attempt("127.0.0.1", "203.0.113.2", "alice", "demo")).status).toBe(200);
  });

  it("ignores X-Forwarded-For from a peer that is not trusted, so rotating it does not evade the limit", async () => {
    server = await startTestServer({ TRUST_PROXY: "false", LOGIN_MAX_FAILURES_PER_USER_IP: "2", LOGIN_MAX_FAILURES_PER_IP: "50" });
    expect((await attempt("127.0.0.11", "198.51.100.1", "bob", "x")).status).toBe(401);
    expect((await attempt("127.0.0.11", "198.51.100.2", "bob", "y")).status).toBe(401);
    expect((await attempt("127.0.0.11", "198.51.100.3", "bob", "demo")).status).toBe(429);
  });
});
