import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ProfileEtags } from "../../server/src/services/profile-etags.js";

// The ETags kept in process are bounded in number and in age, and never outlive what could have
// made them stale.
describe("ProfileEtags: bounded", () => {
  it("keeps at most maxEntries users, dropping the least recently used", async () => {
    const etags = new ProfileEtags({ maxEntries: 100 });
    for (let userId = 1; userId <= 1000; userId++) etags.remember(userId, `"e${userId}"`, etags.stamp());
    expect(etags.size).toBe(100);
    expect(await etags.current(1)).toBeUndefined();
    expect(await etags.current(1000)).toBe('"e1000"');
  });

  it("forgets an entry older than ttlMs", async () => {
    const etags = new ProfileEtags({ ttlMs: 30 });
    etags.remember(7, '"a"', etags.stamp());
    expect(await etags.current(7)).toBe('"a"');
    await sleep(80);
    expect(await etags.current(7)).toBeUndefined();
  });

  it("does not remember a read that a change overtook, nor anything while suspended", async () => {
    const etags = new ProfileEtags();
    const stamp = etags.stamp();
    etags.forget(9); // a change arrives while the source read for user 8 is in flight
    etags.remember(8, '"old"', stamp);
    expect(await etags.current(8)).toBeUndefined();

    etags.remember(8, '"new"', etags.stamp());
    etags.suspend();
    expect(etags.size).toBe(0);
    etags.remember(8, '"new"', etags.stamp());
    expect(await etags.current(8)).toBeUndefined();
    etags.resume();
    etags.remember(8, '"new"', etags.stamp());
    expect(await etags.current(8)).toBe('"new"');
  });

  it("asks the feed before every answer and answers nothing when it cannot prove it is caught up", async () => {
    const etags = new ProfileEtags();
    let caughtUp = true;
    let asked = 0;
    etags.useFeed({
      caughtUp: async () => {
        asked += 1;
        return caughtUp;
      },
      announce: async () => undefined,
    });
    expect(etags.trusted).toBe(false);
    etags.resume();
    etags.remember(3, '"x"', etags.stamp());
    expect(await etags.current(3)).toBe('"x"');
    caughtUp = false;
    expect(await etags.current(3)).toBeUndefined();
    expect(asked).toBe(2);
  });
});
