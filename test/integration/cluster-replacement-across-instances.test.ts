import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ServerClose, ServerFrameType, type WelcomeFrame } from "../../shared/protocol/index.js";
import { connectChat, type ChatClient } from "../helpers/chat-client.js";
import { deploymentForSuite, userToken } from "../helpers/cluster-deployment.js";
import type { RedisBackendKind } from "../helpers/redis-cluster.js";

async function gauge(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? NaN);
}

describe.each<RedisBackendKind>(["standalone", "cluster"])("replacement across instances (%s Redis)", (kind) => {
  const deployment = deploymentForSuite({ instances: 3, redis: kind });

  it("50 concurrent connects for one user spread over three instances → exactly one open socket", async () => {
    const { servers } = deployment();
    const { token, userId } = await userToken(servers[0]!.url, "alice");
    const clients: ChatClient[] = Array.from({ length: 50 }, (_, i) => connectChat(servers[i % servers.length]!.wsUrl, userId, { token }));
    const isOpen = (c: ChatClient) => c.ws.readyState === c.ws.OPEN;
    const deadline = Date.now() + 20_000;
    // Settled: one socket open with its welcome, the 49 others closed.
    while (Date.now() < deadline) {
      const open = clients.filter(isOpen);
      if (
        open.length === 1 &&
        open[0]!.frames.some((f) => f.type === ServerFrameType.welcome) &&
        clients.every((c) => isOpen(c) || c.ws.readyState === c.ws.CLOSED)
      )
        break;
      await sleep(50);
    }
    const open = clients.filter(isOpen);
    expect(open).toHaveLength(1);
    const closes = await Promise.all(clients.filter((c) => !isOpen(c)).map((c) => c.closed));
    expect(closes).toHaveLength(49);
    for (const close of closes) expect(close).toEqual({ code: ServerClose.replaced.code, reason: ServerClose.replaced.reason });

    // Generations are distinct, and the survivor holds the highest one handed out.
    const welcomes = clients.flatMap((c) => c.frames.filter((f): f is WelcomeFrame => f.type === ServerFrameType.welcome));
    const generations = welcomes.map((w) => w.generation);
    expect(new Set(generations).size).toBe(generations.length);
    const survivor = open[0]!.frames.find((f): f is WelcomeFrame => f.type === ServerFrameType.welcome)!;
    expect(survivor.generation).toBe(Math.max(...generations));

    // The servers agree: one connection in total, on one instance.
    let total = NaN;
    for (let i = 0; i < 50; i++) {
      total = (await Promise.all(servers.map((s) => gauge(s.url, "switchboard_ws_connections")))).reduce((a, b) => a + b, 0);
      if (total === 1) break;
      await sleep(100);
    }
    expect(total).toBe(1);

    // A later connect on another instance replaces the survivor, with a higher generation.
    const survivorIndex = clients.indexOf(open[0]!) % servers.length;
    const late = connectChat(servers[(survivorIndex + 1) % servers.length]!.wsUrl, userId, { token });
    const welcome = await late.next<WelcomeFrame>((f) => f.type === ServerFrameType.welcome);
    expect(welcome.generation).toBeGreaterThan(survivor.generation);
    expect(await open[0]!.closed).toEqual({ code: ServerClose.replaced.code, reason: ServerClose.replaced.reason });
    await late.close();
  });
});
