import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TokenService } from "../../server/src/auth/tokens.js";
import type { Store } from "../../server/src/store/store.js";

// A token's signature is checked once and the result remembered; every later use must still see
// a logout at once and the token's expiry to the second. The first verification fills the cache,
// so each assertion after it exercises the cached path.
describe("verified-token cache", () => {
  const services: TokenService[] = [];
  const make = () => {
    const service = new TokenService("unit-secret-unit-secret-unit-secret-0123", null as unknown as Store, { accessTtlS: 60, refreshTtlS: 3600 });
    services.push(service);
    return service;
  };
  afterEach(() => {
    vi.useRealTimers();
    for (const service of services.splice(0)) service.sessions.close();
  });

  it("refuses a cached token as soon as its session is revoked", async () => {
    const tokens = make();
    const sessionId = randomUUID();
    const token = await tokens.issueAccess({ userId: 7, role: "user", sessionId });
    expect(await tokens.verifyAccess(token)).toEqual({ ok: true, claims: { userId: 7, role: "user", sessionId } });
    expect((await tokens.verifyAccess(token)).ok).toBe(true);
    await tokens.sessions.revoke([sessionId]);
    expect(await tokens.verifyAccess(token)).toEqual({ ok: false, reason: "revoked" });
  });

  it("refuses a cached token once it has expired", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const tokens = make();
    const token = await tokens.issueAccess({ userId: 7, role: "user", sessionId: randomUUID() });
    expect((await tokens.verifyAccess(token)).ok).toBe(true);
    vi.setSystemTime(new Date("2026-01-01T00:00:59Z"));
    expect((await tokens.verifyAccess(token)).ok).toBe(true);
    vi.setSystemTime(new Date("2026-01-01T00:01:00Z"));
    expect(await tokens.verifyAccess(token)).toEqual({ ok: false, reason: "expired" });
  });

  it("never lets a token signed with another key through, however often it is tried", async () => {
    const tokens = make();
    const other = new TokenService("another-secret-another-secret-another-0", null as unknown as Store, { accessTtlS: 60, refreshTtlS: 3600 });
    services.push(other);
    const forged = await other.issueAccess({ userId: 7, role: "admin", sessionId: randomUUID() });
    for (let attempt = 0; attempt < 3; attempt++) expect(await tokens.verifyAccess(forged)).toEqual({ ok: false, reason: "invalid" });
  });
});
