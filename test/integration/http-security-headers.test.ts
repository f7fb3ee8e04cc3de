import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestPath, type LoginResponse } from "../../shared/protocol/index.js";
import { WEB_APP_DIR } from "../helpers/chromium.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

describe("security headers (real server serving the built web app)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ WEB_APP_DIR });
  });
  afterAll(async () => server?.stop());

  const common = (headers: Headers) => {
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("x-frame-options")).toBe("DENY");
    expect(headers.get("referrer-policy")).toBe("no-referrer");
    expect(headers.get("x-powered-by")).toBeNull();
    expect(headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    // The rest of helmet's set (worked out once at start-up, set on every answer).
    expect(headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    expect(headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(headers.get("cross-origin-resource-policy")).toBe("same-origin");
    expect(headers.get("origin-agent-cluster")).toBe("?1");
    expect(headers.get("x-dns-prefetch-control")).toBe("off");
    expect(headers.get("x-download-options")).toBe("noopen");
    expect(headers.get("x-permitted-cross-domain-policies")).toBe("none");
    expect(headers.get("x-xss-protection")).toBe("0");
  };

  it("gives the web app a strict CSP: its own scripts and styles only, nothing inline", async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    common(res.headers);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    // Its assets get the same headers.
    const html = await res.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.status).toBe(200);
    common(asset.headers);
  });

  it("gives API answers a CSP that loads nothing", async () => {
    for (const path of [RestPath.profileMe, RestPath.healthz, RestPath.metrics]) {
      const res = await fetch(`${server.url}${path}`);
      common(res.headers);
      if (path.startsWith("/api/")) expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
  });

  it("marks token responses no-store (login, refresh, and their errors)", async () => {
    const login = await fetch(`${server.url}${RestPath.login}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "demo" }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get("cache-control")).toBe("no-store");
    const { refreshToken } = (await login.json()) as LoginResponse;
    const refresh = await fetch(`${server.url}${RestPath.refresh}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken }),
    });
    expect(refresh.status).toBe(200);
    expect(refresh.headers.get("cache-control")).toBe("no-store");
    const wrong = await fetch(`${server.url}${RestPath.login}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "nope" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("cache-control")).toBe("no-store");
  });
});
