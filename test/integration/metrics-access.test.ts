import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, type RestError } from "../../shared/protocol/index.js";
import { createLogger } from "../../server/src/log/logger.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

const TOKEN = "metrics-token-0123456789abcdef";
const PRODUCTION = { NODE_ENV: "production", JWT_SECRET: "a-real-production-secret-of-48-characters-000000" };

describe("who may read /metrics (real servers)", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const scrape = (base: string, token?: string) => fetch(`${base}${RestPath.metrics}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it("serves them openly on the main listener in development with neither METRICS_TOKEN nor METRICS_PORT", async () => {
    server = await startTestServer();
    const res = await scrape(server.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("switchboard_ws_connections");
  });

  it("requires Authorization: Bearer <METRICS_TOKEN> when the token is set", async () => {
    server = await startTestServer({ METRICS_TOKEN: TOKEN });
    const anonymous = await scrape(server.url);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as RestError).error.code).toBe(RestErrorCode.unauthorized);
    expect((await scrape(server.url, "wrong-token-0123456789abcdef")).status).toBe(401);
    const authorised = await scrape(server.url, TOKEN);
    expect(authorised.status).toBe(200);
    expect(await authorised.text()).toContain("switchboard_http_requests_total");
  });

  it("serves them only on their own listener when METRICS_PORT is set (host 127.0.0.1 by default)", async () => {
    server = await startTestServer({ METRICS_PORT: "0" });
    const listener = server.server.metricsListener;
    expect(listener?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(listener?.url).not.toBe(server.url);
    const onPublic = await scrape(server.url);
    expect(onPublic.status).toBe(404);
    expect(((await onPublic.json()) as RestError).error.code).toBe(RestErrorCode.notFound);
    const onOwn = await scrape(listener!.url);
    expect(onOwn.status).toBe(200);
    expect(await onOwn.text()).toContain("switchboard_ws_connections");
    // That listener serves metrics and nothing else.
    expect((await fetch(`${listener!.url}${RestPath.login}`, { method: "POST" })).status).toBe(404);
  });

  it("applies the token on the metrics listener too", async () => {
    server = await startTestServer({ METRICS_PORT: "0", METRICS_TOKEN: TOKEN });
    const listener = server.server.metricsListener!;
    expect((await scrape(listener.url)).status).toBe(401);
    expect((await scrape(listener.url, TOKEN)).status).toBe(200);
  });

  it("answers 404 on the public listener in production with neither set, and the start-up log says how to enable them", async () => {
    let log = "";
    const capture = new PassThrough();
    capture.on("data", (chunk: Buffer) => (log += chunk.toString()));
    server = await startTestServer(PRODUCTION, { logger: createLogger({ level: "info", destination: capture }) });
    expect((await scrape(server.url)).status).toBe(404);
    expect(server.server.metricsListener).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(log).toContain("METRICS_PORT");
    expect(log).toContain("METRICS_TOKEN");
  });

  it("serves them with the token in production when METRICS_TOKEN is set", async () => {
    server = await startTestServer({ ...PRODUCTION, METRICS_TOKEN: TOKEN });
    expect((await scrape(server.url)).status).toBe(401);
    expect((await scrape(server.url, TOKEN)).status).toBe(200);
  });
});
