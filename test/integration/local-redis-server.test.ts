import { spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisBinaryMissingError, startLocalRedis } from "../../server/src/redis/local-redis-server.js";

describe("startLocalRedis", () => {
  it("starts a private redis-server on a free port and stops it", async () => {
    const server = await startLocalRedis();
    expect(server.port).not.toBe(6379);
    const client = new Redis(server.url);
    await client.set("k", "v");
    expect(await client.get("k")).toBe("v");
    client.disconnect();
    await server.stop();
    expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
  });

  it("names the package to install when the binary is missing", async () => {
    await expect(startLocalRedis({ binary: "redis-server-does-not-exist" })).rejects.toBeInstanceOf(RedisBinaryMissingError);
    await expect(startLocalRedis({ binary: "redis-server-does-not-exist" })).rejects.toThrow(/apt-get install -y redis-server/);
  });
});

describe("a private redis-server does not outlive its process", () => {
  const moduleUrl = new URL("../../server/src/redis/local-redis-server.ts", import.meta.url).href;

  /** A Node process that starts a private redis-server, reports it, then ends the way `ending` says without stopping it. */
  async function startAndEnd(ending: string): Promise<{ pid: number; port: number; code: number | null }> {
    const script = `import { startLocalRedis } from ${JSON.stringify(moduleUrl)};
      const redis = await startLocalRedis();
      console.log(JSON.stringify({ pid: redis.process.pid, port: redis.port }));
      setTimeout(() => { ${ending} }, 20);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "ignore"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    return { ...(JSON.parse(output.trim().split("\n").at(-1)!) as { pid: number; port: number }), code };
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  for (const [how, ending] of [
    ["process.exit(1) (a second Ctrl-C, a shutdown timeout)", "process.exit(1)"],
    ["an uncaught error", "throw new Error('boom')"],
  ] as const) {
    it(`is killed when its process ends by ${how}`, async () => {
      const { pid, port, code } = await startAndEnd(ending);
      expect(code).toBe(1);
      const deadline = Date.now() + 5000;
      while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(alive(pid)).toBe(false);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(false);
        });
        socket.once("error", () => resolve(true));
      });
      expect(refused).toBe(true);
    });
  }
});
