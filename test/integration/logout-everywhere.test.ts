import { describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, ServerClose } from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

describe("log out everywhere", () => {
  const t = useTestServer();

  const refresh = (refreshToken: string) =>
    fetch(`${t.url}${RestPath.refresh}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refreshToken }) });

  it("revokes every session of the user (access and refresh tokens) and closes their socket; other users keep theirs", async () => {
    const laptop = await login(t.url, "alice");
    const phone = await login(t.url, "alice");
    // A third session that already rotated its refresh token once: its newest pair ends too.
    const tablet = (await (await refresh((await login(t.url, "alice")).refreshToken)).json()) as typeof laptop;
    const bob = await login(t.url, "bob");
    const aliceSocket = await connectLive(t.wsUrl, phone);
    const bobSocket = await connectLive(t.wsUrl, bob);

    const out = await api(t.url, laptop.accessToken, "POST", RestPath.logoutAll);
    expect(out.status).toBe(204);

    for (const session of [laptop, phone, tablet]) {
      const refused = await api<{ error: { code: string } }>(t.url, session.accessToken, "GET", RestPath.profileMe);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe(RestErrorCode.sessionEnded);
      expect((await refresh(session.refreshToken)).status).toBe(401);
    }
    expect(await aliceSocket.closed).toEqual(ServerClose.sessionEnded);
    for (const session of [laptop, tablet]) {
      expect(await connectChat(t.wsUrl, session.user.id, { token: session.accessToken }).closed).toEqual(ServerClose.sessionEnded);
    }

    expect(bobSocket.ws.readyState).toBe(bobSocket.ws.OPEN);
    expect((await api(t.url, bob.accessToken, "GET", RestPath.profileMe)).status).toBe(200);
    await bobSocket.close();

    // Signing in again afterwards is a new session and works.
    const again = await login(t.url, "alice");
    expect((await api(t.url, again.accessToken, "GET", RestPath.profileMe)).status).toBe(200);
  });

  it("needs the access token", async () => {
    const res = await fetch(`${t.url}${RestPath.logoutAll}`, { method: "POST" });
    expect(res.status).toBe(401);
  });
});
