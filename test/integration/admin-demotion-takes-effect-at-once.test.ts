import { describe, expect, it } from "vitest";
import { EventKind, RestErrorCode, RestPath, ServerFrameType, type EventFrame } from "../../shared/protocol/index.js";
import { api, connectLive, login } from "../helpers/chat-client.js";
import { useTestServer } from "../helpers/in-process-server.js";

// Admin routes authorise with the caller's role as the database has it now, not the role claim
// baked into an access token that may be up to ACCESS_TOKEN_TTL_S old.
describe("a demoted admin loses admin rights at once", () => {
  const t = useTestServer();

  const profileEvent = (frame: { type: string }) => frame.type === ServerFrameType.event && (frame as EventFrame).event.kind === EventKind.profile;

  it("403 on the admin route with the old token right after the demotion; the role change pushes a profile event", async () => {
    const carol = await login(t.url, "carol"); // the seeded admin
    const bob = await login(t.url, "bob");
    const alice = await login(t.url, "alice");

    const bobSocket = await connectLive(t.wsUrl, bob);
    const promoted = await api(t.url, carol.accessToken, "PUT", RestPath.adminRole(bob.user.id), { role: "admin" });
    expect(promoted.status).toBe(200);
    await bobSocket.next(profileEvent);

    // Bob's token was issued while he was a user: his current role counts, so he may act now.
    expect((await api(t.url, bob.accessToken, "PUT", RestPath.adminRole(alice.user.id), { role: "user", permissions: [] })).status).toBe(200);
    const bobAsAdmin = await login(t.url, "bob"); // a token whose claim says "admin"

    const seen = bobSocket.frames.filter(profileEvent).length;
    const demoted = await api(t.url, carol.accessToken, "PUT", RestPath.adminRole(bob.user.id), { role: "user" });
    expect(demoted.status).toBe(200);
    await bobSocket.next((f) => profileEvent(f) && bobSocket.frames.filter(profileEvent).length > seen);

    for (const token of [bobAsAdmin.accessToken, bob.accessToken]) {
      const refused = await api<{ error: { code: string } }>(t.url, token, "PUT", RestPath.adminRole(alice.user.id), { role: "admin" });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe(RestErrorCode.forbidden);
    }
    // Demotion is not a logout: bob's session and socket stay.
    expect((await api(t.url, bobAsAdmin.accessToken, "GET", RestPath.profileMe)).status).toBe(200);
    expect(bobSocket.ws.readyState).toBe(bobSocket.ws.OPEN);
    await bobSocket.close();
  });
});
