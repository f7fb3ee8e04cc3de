import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  REFRESH_COOKIE_NAME,
  REFRESH_COOKIE_PATH,
  RefreshTransport,
  RestErrorCode,
  RestPath,
  type CookieSessionResponse,
} from "../../shared/protocol/index.js";
import { api } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

// The web app without the extension: the refresh token travels as an HttpOnly cookie scoped to the
// auth routes, and every cookie-authenticated request must come from an allowed Origin (CSRF).
const APP_ORIGIN = "http://app.example";

describe("refresh token as an HttpOnly cookie", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ ALLOWED_ORIGINS: APP_ORIGIN });
  });
  afterAll(async () => t?.stop());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json", origin: APP_ORIGIN, ...headers }, body: JSON.stringify(body) });
  const cookieOf = (response: Response) => {
    const header = response.headers.getSetCookie().find((line) => line.startsWith(`${REFRESH_COOKIE_NAME}=`));
    return { header, value: header?.split(";")[0]?.slice(REFRESH_COOKIE_NAME.length + 1) ?? "" };
  };

  it("login sets the cookie (HttpOnly, SameSite=Strict, auth routes only) and keeps the token out of the body", async () => {
    const response = await post(RestPath.login, { username: "alice", password: "demo", refreshTransport: RefreshTransport.cookie });
    expect(response.status).toBe(200);
    const body = (await response.json()) as CookieSessionResponse & { refreshToken?: string };
    expect(body.refreshToken).toBeUndefined();
    expect((await api(t.url, body.accessToken, "GET", RestPath.profileMe)).status).toBe(200);
    const { header, value } = cookieOf(response);
    expect(value.length).toBeGreaterThan(20);
    expect(header).toContain("HttpOnly");
    expect(header).toContain("SameSite=Strict");
    expect(header).toContain(`Path=${REFRESH_COOKIE_PATH}`);
    // 127.0.0.1 is a loopback host: no Secure there (a developer's http://localhost); everywhere else Secure.
    expect(header).not.toContain("Secure");
  });

  it("refresh with the cookie rotates it: a new cookie, still no token in the body", async () => {
    const login = await post(RestPath.login, { username: "bob", password: "demo", refreshTransport: RefreshTransport.cookie });
    const first = cookieOf(login).value;
    const refreshed = await post(RestPath.refresh, {}, { cookie: `${REFRESH_COOKIE_NAME}=${first}` });
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as CookieSessionResponse & { refreshToken?: string };
    expect(body.refreshToken).toBeUndefined();
    expect(body.user.username).toBe("bob");
    const second = cookieOf(refreshed).value;
    expect(second).not.toBe(first);
    expect((await post(RestPath.refresh, {}, { cookie: `${REFRESH_COOKIE_NAME}=${second}` })).status).toBe(200);
  });

  it("refuses a cookie refresh without an allowed Origin (403, nothing rotated) and one without a cookie (401)", async () => {
    const login = await post(RestPath.login, { username: "carol", password: "demo", refreshTransport: RefreshTransport.cookie });
    const cookie = `${REFRESH_COOKIE_NAME}=${cookieOf(login).value}`;
    const foreign = await post(RestPath.refresh, {}, { cookie, origin: "http://evil.example" });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe(RestErrorCode.forbidden);
    const noOrigin = await fetch(`${t.url}${RestPath.refresh}`, { method: "POST", headers: { "content-type": "application/json", cookie }, body: "{}" });
    expect(noOrigin.status).toBe(403);
    // The token was not used by those: it still refreshes.
    expect((await post(RestPath.refresh, {}, { cookie })).status).toBe(200);
    const none = await post(RestPath.refresh, {});
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe(RestErrorCode.refreshInvalid);
  });

  it("logout with the cookie revokes it and clears the cookie", async () => {
    const login = await post(RestPath.login, { username: "alice", password: "demo", refreshTransport: RefreshTransport.cookie });
    const cookie = `${REFRESH_COOKIE_NAME}=${cookieOf(login).value}`;
    const out = await post(RestPath.logout, {}, { cookie });
    expect(out.status).toBe(204);
    expect(cookieOf(out).header).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await post(RestPath.refresh, {}, { cookie })).status).toBe(401);
  });

  it("the body transport is unchanged (the extension): login returns the refresh token, no cookie", async () => {
    const response = await post(RestPath.login, { username: "alice", password: "demo" });
    expect(((await response.json()) as { refreshToken?: string }).refreshToken).toEqual(expect.any(String));
    expect(cookieOf(response).header).toBeUndefined();
  });
});
