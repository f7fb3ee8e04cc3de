import { RestPath } from "../../shared/protocol/index.js";
import { describe, expect, it } from "vitest";
import { api, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("login and refresh-token rotation", () => {
  // Reuse detection itself: no reuse interval here (auth-refresh-reuse-interval tests that).
  const t = useTestServer({ REFRESH_REUSE_INTERVAL_S: "0" });

  const refresh = (refreshToken: string) =>
    fetch(`${t.url}/api/auth/refresh`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refreshToken }) });

  it("rejects wrong passwords with 401 invalid_credentials", async () => {
    const res = await fetch(`${t.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "nope" }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "invalid_credentials", message: expect.any(String) } });
    const unknown = await fetch(`${t.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "mallory", password: "x" }),
    });
    expect(unknown.status).toBe(401);
  });

  it("rotates: a refresh gives a new pair; reusing the old token fails and revokes the family", async () => {
    const first = await login(t.url, "alice");
    const r1 = await refresh(first.refreshToken);
    expect(r1.status).toBe(200);
    const second = (await r1.json()) as typeof first;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await api(t.url, second.accessToken, "GET", RestPath.profileMe)).status).toBe(200);

    const reuse = await refresh(first.refreshToken);
    expect(reuse.status).toBe(401);
    expect(((await reuse.json()) as { error: { code: string } }).error.code).toBe("refresh_token_reused");
    // The whole family is revoked: the newer token no longer works either.
    const afterRevoke = await refresh(second.refreshToken);
    expect(afterRevoke.status).toBe(401);
  });

  it("logout revokes the refresh token", async () => {
    const session = await login(t.url, "bob");
    const out = await fetch(`${t.url}/api/auth/logout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    });
    expect(out.status).toBe(204);
    expect((await refresh(session.refreshToken)).status).toBe(401);
  });

  it("rejects garbage refresh tokens and bodies with JSON errors", async () => {
    expect((await refresh("short")).status).toBe(401);
    const bad = await fetch(`${t.url}/api/auth/refresh`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: "invalid_body", message: expect.any(String) } });
  });
});
