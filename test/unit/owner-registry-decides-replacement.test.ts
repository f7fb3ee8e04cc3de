import { describe, expect, it } from "vitest";
import { LocalOwnerRegistry } from "../../server/src/realtime/local-owner-registry.js";
import type { ClaimResult, OwnerClaim } from "../../server/src/realtime/ports.js";
import type { RedisHealth } from "../../server/src/realtime/redis-health.js";
import type { RedisOwnerRegistry } from "../../server/src/realtime/redis-owner-registry.js";
import { ResilientOwnerRegistry } from "../../server/src/realtime/resilient-owner-registry.js";

/** Redis as the claim script answers it, with replies released in an order the test picks. */
function scriptedRedis() {
  let generation = 0;
  let owner: { instanceId: string; connId: string } | null = null;
  const replies: Array<() => void> = [];
  const redis = {
    claim(claim: OwnerClaim): Promise<ClaimResult> {
      // The script runs at once (atomically, in send order); only its reply is delayed.
      generation += 1;
      const result: ClaimResult = { generation, previous: owner };
      owner = { instanceId: claim.instanceId, connId: claim.connId };
      return new Promise((resolve) => replies.push(() => resolve(result)));
    },
    release: async () => true,
    onReplaced: () => () => {},
  } as unknown as RedisOwnerRegistry;
  return { redis, reply: (index: number) => replies[index]!() };
}

const healthUp = {
  run: (primary: () => Promise<unknown>) => primary(),
  onRecover: () => () => {},
  withTimeout: <T>(p: Promise<T>) => p,
} as unknown as RedisHealth;

describe("the owner registry decides which connection is current", () => {
  it("reports the previous connection on this instance as replaced", async () => {
    const { redis, reply } = scriptedRedis();
    const registry = new ResilientOwnerRegistry(redis, new LocalOwnerRegistry(), healthUp, "i-1");
    const replaced: string[] = [];
    registry.onReplaced((_user, connId) => replaced.push(connId));
    const first = registry.claim({ userId: 7, connId: "a", instanceId: "i-1" });
    reply(0);
    await first;
    const second = registry.claim({ userId: 7, connId: "b", instanceId: "i-1" });
    reply(1);
    await second;
    expect(replaced).toEqual(["a"]);
    expect(registry.localOwner(7)).toBe("b");
  });

  it("keeps the newer connection when an older claim's reply comes back last", async () => {
    const { redis, reply } = scriptedRedis();
    const registry = new ResilientOwnerRegistry(redis, new LocalOwnerRegistry(), healthUp, "i-1");
    const replaced: string[] = [];
    registry.onReplaced((_user, connId) => replaced.push(connId));
    const older = registry.claim({ userId: 7, connId: "older", instanceId: "i-1" });
    const newer = registry.claim({ userId: 7, connId: "newer", instanceId: "i-1" });
    reply(1); // generation 2 first (as Redis Cluster can answer after a MOVED re-send)
    await newer;
    reply(0);
    await older;
    expect(registry.localOwner(7)).toBe("newer");
    expect(registry.localOwners).toBe(1);
    expect(replaced).toEqual(["older", "older"]); // named by the newer claim, and again by its own stale reply
  });

  it("leaves a previous owner on another instance to that instance (its claim script told it)", async () => {
    const { redis, reply } = scriptedRedis();
    const registry = new ResilientOwnerRegistry(redis, new LocalOwnerRegistry(), healthUp, "i-1");
    const replaced: string[] = [];
    registry.onReplaced((_user, connId) => replaced.push(connId));
    const elsewhere = registry.claim({ userId: 7, connId: "remote", instanceId: "i-2" });
    reply(0);
    await elsewhere;
    const here = registry.claim({ userId: 7, connId: "here", instanceId: "i-1" });
    reply(1);
    await here;
    expect(replaced).toEqual([]);
  });

  it("in one process: a claim reports the connection it replaced, and only a connection's own release removes it", async () => {
    const registry = new LocalOwnerRegistry();
    const replaced: string[] = [];
    registry.onReplaced((_user, connId) => replaced.push(connId));
    await registry.claim({ userId: 1, connId: "a", instanceId: "i" });
    await registry.claim({ userId: 1, connId: "b", instanceId: "i" });
    expect(replaced).toEqual(["a"]);
    expect(await registry.release(1, "a")).toBe(false);
    expect(registry.localOwner(1)).toBe("b");
    expect(await registry.release(1, "b")).toBe(true);
    expect(registry.localOwners).toBe(0);
  });
});
