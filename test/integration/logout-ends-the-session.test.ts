import request from "supertest";
import { describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, ServerClose, ServerFrameType } from "../../shared/protocol/index.js";
import { api, connectChat, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

// Issue 9 item 5: after `POST /api/auth/logout` nothing of that session keeps working — not the
// access token's remaining minutes, not the open socket, not a new upgrade.
describe("logout ends the session at once", () => {
  const t = useTestServer();

  const logout = (refreshToken: string) =>
    fetch(`${t.url}${RestPath.logout}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refreshToken }) });

  it("refuses the old access token with 401 session_ended, closes the open socket with 1008 Session ended, refuses a new upgrade the same way", async () => {
    const session = await login(t.url, "alice");
    const other = await login(t.url, "alice"); // a second login (another device) is another session
    expect((await api(t.url, session.accessToken, "GET", RestPath.profileMe)).status).toBe(200);
    const socket = await connectLive(t.wsUrl, session);

    expect((await logout(session.refreshToken)).status).toBe(204);

    const refused = await api<{ error: { code: string; message: string } }>(t.url, session.accessToken, "GET", RestPath.profileMe);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe(RestErrorCode.sessionEnded);
    expect(await socket.closed).toEqual(ServerClose.sessionEnded);

    const again = connectChat(t.wsUrl, session.user.id, { token: session.accessToken });
    expect(await again.closed).toEqual(ServerClose.sessionEnded);
    expect(again.frames.some((f) => f.type === ServerFrameType.welcome)).toBe(false);

    // Only that session ended: the other login of the same user still works, socket included.
    expect((await api(t.url, other.accessToken, "GET", RestPath.profileMe)).status).toBe(200);
    const otherSocket = await connectLive(t.wsUrl, other);
    expect(otherSocket.ws.readyState).toBe(otherSocket.ws.OPEN);
    await otherSocket.close();
  });

  it("also ends the session for the 304 path and every other authenticated route", async () => {
    const session = await login(t.url, "bob");
    // supertest, not fetch: fetch turns a request with If-None-Match into `Cache-Control: no-cache`, which is never 304.
    const profile = (etag?: string) => {
      const r = request(t.url).get(RestPath.profileMe).set("Authorization", `Bearer ${session.accessToken}`);
      return etag ? r.set("If-None-Match", etag) : r;
    };
    const etag = (await profile()).headers.etag!;
    expect((await profile(etag)).status).toBe(304);
    expect((await logout(session.refreshToken)).status).toBe(204);
    const after = await profile(etag);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe(RestErrorCode.sessionEnded);
    for (const path of [RestPath.unreadCount, RestPath.users, RestPath.conversations]) {
      expect((await api(t.url, session.accessToken, "GET", path)).status).toBe(401);
    }
  });
});
