import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestPath, type UnreadCountResponse } from "../../shared/protocol/index.js";
import { api, login } from "../helpers/chat-client.js";
import { loginFrom } from "../helpers/http-from-address.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

const CONCURRENCY = 2;
const GUESSERS = 8;
const GUESSES_EACH = 5;

describe("password hashing under parallel guessing", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      PASSWORD_HASH_CONCURRENCY: String(CONCURRENCY),
      // Limits out of the way: this test is about what the guesses that do get through cost.
      LOGIN_MAX_FAILURES_PER_USER_IP: "1000",
      LOGIN_MAX_FAILURES_PER_IP: "1000",
    });
  });
  afterAll(async () => server?.stop());

  it("never hashes more than PASSWORD_HASH_CONCURRENCY at once, queues the rest, and keeps serving another user", async () => {
    const bob = await login(server.url, "bob");
    const { passwordHashesActive, passwordHashesQueued } = server.server.metrics;
    let maxActive = 0;
    let maxQueued = 0;
    const sample = setInterval(async () => {
      maxActive = Math.max(maxActive, (await passwordHashesActive.get()).values[0]?.value ?? 0);
      maxQueued = Math.max(maxQueued, (await passwordHashesQueued.get()).values[0]?.value ?? 0);
    }, 5);

    const guessers = Array.from({ length: GUESSERS }, async (_, index) => {
      const statuses: number[] = [];
      for (let guess = 0; guess < GUESSES_EACH; guess += 1) {
        statuses.push((await loginFrom(`127.0.1.${index + 1}`, server.url, `alice`, `guess-${index}-${guess}`, RestPath.login)).status);
      }
      return statuses;
    });
    const unreadReads: number[] = [];
    const attack = Promise.all(guessers);
    let attackOver = false;
    void attack.finally(() => (attackOver = true));
    while (!attackOver) {
      const res = await api<UnreadCountResponse>(server.url, bob.accessToken, "GET", RestPath.unreadCount);
      unreadReads.push(res.status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const statuses = (await attack).flat();
    clearInterval(sample);

    expect(statuses).toEqual(Array(GUESSERS * GUESSES_EACH).fill(401));
    expect(maxActive).toBeGreaterThan(0);
    expect(maxActive).toBeLessThanOrEqual(CONCURRENCY);
    // The bound was really in play: guesses waited for a slot.
    expect(maxQueued).toBeGreaterThan(0);
    expect(unreadReads.length).toBeGreaterThan(0);
    expect(unreadReads.every((status) => status === 200)).toBe(true);
    expect((await passwordHashesActive.get()).values[0]?.value).toBe(0);
  });
});
