import { afterEach, describe, expect, it } from "vitest";
import { SessionRevocations } from "../../server/src/auth/session-revocations.js";

// The in-process set every request consults: entries last exactly one access-token lifetime, and
// listeners (which close sockets) hear each session once. The clock is injected; time is the subject.
describe("SessionRevocations", () => {
  let now = 1_000_000;
  const created: SessionRevocations[] = [];
  const make = () => {
    const revocations = new SessionRevocations({ accessTtlMs: 900_000, now: () => now });
    created.push(revocations);
    return revocations;
  };
  afterEach(() => {
    for (const revocations of created.splice(0)) revocations.close();
    now = 1_000_000;
  });

  it("refuses a revoked session until the last access token it could cover has expired, then forgets it", async () => {
    const revocations = make();
    await revocations.revoke(["s1"]);
    expect(revocations.isRevoked("s1")).toBe(true);
    expect(revocations.isRevoked("s2")).toBe(false);
    now += 899_999;
    expect(revocations.isRevoked("s1")).toBe(true);
    now += 1;
    expect(revocations.isRevoked("s1")).toBe(false);
    expect(revocations.size).toBe(0);
  });

  it("tells listeners about new revocations only, and ignores lapsed ones it learns", async () => {
    const revocations = make();
    const heard: string[][] = [];
    revocations.onRevoked((ids) => heard.push([...ids]));
    await revocations.revoke(["a", "b"]);
    revocations.learn([
      ["a", now + 5000],
      ["c", now + 5000],
      ["old", now - 1],
    ]);
    expect(heard).toEqual([["a", "b"], ["c"]]);
    expect(revocations.isRevoked("old")).toBe(false);
  });

  it("keeps the later expiry when the same session is revoked again", async () => {
    const revocations = make();
    revocations.learn([["s", now + 1000]]);
    revocations.learn([["s", now + 5000]]);
    now += 2000;
    expect(revocations.isRevoked("s")).toBe(true);
  });

  it("hands its own revocations to the sharing backend with their expiry", async () => {
    const revocations = make();
    const shared: Array<[readonly string[], number]> = [];
    revocations.useSharing({ share: async (ids, expiresAtMs) => void shared.push([ids, expiresAtMs]) });
    await revocations.revoke(["x"]);
    expect(shared).toEqual([[["x"], now + 900_000]]);
  });
});
