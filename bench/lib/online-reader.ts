/**
 * The online side of `bench:cache`, in its own process like the server: reads random profiles
 * through `UserCache` (dual mode, so legacy values are lazily rewritten) on its own connection,
 * one read every ~2 ms, until a line arrives on stdin; then prints its latencies as JSON.
 * Separate from the bench process, whose heap holds the generated dataset (its GC pauses
 * would show up as read latency).
 *
 * Usage: node dist/bench/lib/online-reader.js <redis-url> <key-count>
 */
import { Redis } from "ioredis";
import { UserCache } from "../../server/src/cache/user-cache.js";
import { percentile } from "./report.js";

export interface OnlineReads {
  reads: number;
  misses: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
const redis = new Redis(url!);
const cache = new UserCache({ redis, ttlSeconds: 3600, mode: "dual" });
const latencies: number[] = [];
let misses = 0;
let stop = false;
process.stdin.once("data", () => (stop = true));
await redis.ping();
process.stdout.write("ready\n");
while (!stop) {
  const id = Math.floor(Math.random() * count);
  const started = performance.now();
  if ((await cache.get(id)) === null) misses += 1;
  latencies.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 2));
}
redis.disconnect();
const sorted = latencies.sort((a, b) => a - b);
const result: OnlineReads = { reads: sorted.length, misses, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? NaN };
process.stdout.write(`${JSON.stringify(result)}\n`);
process.stdin.destroy();
