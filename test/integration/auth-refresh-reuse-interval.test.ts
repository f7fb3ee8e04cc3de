import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, type LoginResponse } from "../../shared/protocol/index.js";
import { login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

// Two tabs refreshing with the same token at nearly the same moment (a leader handover) must not
// log the user out: within REFRESH_REUSE_INTERVAL_S the same token gets the same successor. After
// the interval a reuse is what it always was: the family is revoked.
const INTERVAL_S = 2;

describe("refresh reuse interval", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ REFRESH_REUSE_INTERVAL_S: String(INTERVAL_S) });
  });
  afterAll(async () => t?.stop());

  const refresh = (refreshToken: string) =>
    fetch(`${t.url}${RestPath.refresh}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refreshToken }) });

  it("two concurrent refreshes with one token get the same successor, and the family lives on", async () => {
    const session = await login(t.url, "alice");
    const [a, b] = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [first, second] = (await Promise.all([a.json(), b.json()])) as LoginResponse[];
    expect(first!.refreshToken).toBe(second!.refreshToken);
    expect(first!.refreshToken).not.toBe(session.refreshToken);
    // A third try a moment later, still inside the interval: the same successor again.
    const third = (await (await refresh(session.refreshToken)).json()) as LoginResponse;
    expect(third.refreshToken).toBe(first!.refreshToken);
    // The successor works (nothing was revoked).
    expect((await refresh(first!.refreshToken)).status).toBe(200);
  });

  it("after the interval, a reuse revokes the family as before", async () => {
    const session = await login(t.url, "bob");
    const next = (await (await refresh(session.refreshToken)).json()) as LoginResponse;
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_S * 1000 + 300));
    const late = await refresh(session.refreshToken);
    expect(late.status).toBe(401);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe(RestErrorCode.refreshReused);
    expect((await refresh(next.refreshToken)).status).toBe(401);
  });
});
