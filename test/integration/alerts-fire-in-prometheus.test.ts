import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { RestPath } from "../../shared/protocol/index.js";
import { api, connectChat, login, type ChatClient } from "../helpers/chat-client.js";
import { startPrometheus, type PrometheusServer } from "../helpers/prometheus.js";
import { redisForTest } from "../helpers/redis.js";
import { REPO_ROOT, startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { until } from "../helpers/until.js";

/**
 * The alerts of ops/prometheus/alerts.yml, evaluated by a real prometheus scraping a real server
 * every second. The expressions are used as they are; only `for` is dropped (minutes of
 * confirmation would make this test minutes long; promtool's unit tests cover `for`).
 */
async function rulesWithoutFor(dir: string): Promise<string> {
  const rules = parse(readFileSync(path.join(REPO_ROOT, "ops/prometheus/alerts.yml"), "utf8")) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
  for (const group of rules.groups) for (const rule of group.rules) delete rule.for;
  const file = path.join(dir, "alerts.yml");
  await writeFile(file, stringify(rules));
  return file;
}

describe("alerts fire in a real Prometheus scraping a real server", () => {
  let redis: Awaited<ReturnType<typeof redisForTest>>;
  let server: ServerProcess;
  let prometheus: PrometheusServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-alerts-"));
    redis = await redisForTest();
    server = await startServerProcess({ env: { REDIS_URL: redis.server.url } });
    prometheus = await startPrometheus({
      targets: [{ job: "switchboard", address: `127.0.0.1:${server.port}` }],
      ruleFiles: [await rulesWithoutFor(dir)],
      intervalS: 1,
    });
    // Scraped at least twice, so rates exist and the loop alert is not firing yet.
    expect(await until(async () => Number((await prometheus.query('count_over_time(up{job="switchboard"}[1m])'))[0]?.value[1] ?? 0) >= 3, 30_000, 500)).toBe(
      true,
    );
  }, 90_000);
  afterAll(async () => {
    await prometheus?.stop();
    await server?.stop();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const firing = async (alertname: string) => (await prometheus.alerts()).filter((a) => a.labels.alertname === alertname && a.state === "firing");

  it("a healthy, idle server fires no alert", async () => {
    expect((await prometheus.alerts()).filter((a) => a.state === "firing").map((a) => a.labels.alertname)).toEqual([]);
    // The rules were loaded and evaluated: the loop gauge is scraped and reads 0.
    const [loopUsers] = await prometheus.query("max(switchboard_ws_replacement_loop_users)");
    expect(loopUsers?.value[1]).toBe("0");
  });

  it("every query of the Grafana dashboard is valid PromQL that Prometheus evaluates", async () => {
    const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, "ops/grafana/switchboard.json"), "utf8")) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(queries.length).toBeGreaterThan(15);
    for (const { panel, expr } of queries) {
      // Grafana's variables, as Grafana would fill them in.
      const filled = expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*");
      await expect(prometheus.query(filled), `${panel}: ${expr}`).resolves.toBeInstanceOf(Array);
    }
  });

  it("SwitchboardReconnectLoop fires when two clients of one user reconnect on every close (the old app)", async () => {
    expect(await firing("SwitchboardReconnectLoop")).toEqual([]);
    const alice = await login(server.url, "alice");
    let running = true;
    const open = new Set<ChatClient>();
    // The old app's rule: reconnect after any close. Two of them kick each other out forever;
    // bounded here by `running` and the test's deadline.
    const oldClient = () => {
      if (!running) return;
      const client = connectChat(server.wsUrl, alice.user.id, { token: alice.accessToken });
      open.add(client);
      void client.closed.then(() => {
        open.delete(client);
        setTimeout(oldClient, 50);
      });
    };
    oldClient();
    oldClient();
    try {
      expect(await until(async () => (await firing("SwitchboardReconnectLoop")).length > 0, 40_000, 500)).toBe(true);
      const [alert] = await firing("SwitchboardReconnectLoop");
      expect(alert!.labels).toMatchObject({ severity: "critical", instance: `127.0.0.1:${server.port}` });
      expect(Number(alert!.value)).toBe(1); // one user in a loop
    } finally {
      running = false;
      await Promise.all([...open].map((c) => c.close()));
    }
  }, 60_000);

  it("SwitchboardCacheParseFailures fires when cached values cannot be parsed", async () => {
    expect(await firing("SwitchboardCacheParseFailures")).toEqual([]);
    const bob = await login(server.url, "bob");
    const deadline = Date.now() + 40_000;
    let fired = false;
    // Each profile read meets an unparseable value (a miss, served from the database, re-cached
    // as v2); the value is seeded again before every read, as a broken writer would.
    while (!fired && Date.now() < deadline) {
      await redis.client.set(`user:${bob.user.id}`, Buffer.from([0x00, 0x13, 0x37, 0x42, 0x99]));
      const res = await api(server.url, bob.accessToken, "GET", RestPath.profileMe);
      expect(res.status).toBe(200); // users are not affected
      fired = (await firing("SwitchboardCacheParseFailures")).length > 0;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(fired).toBe(true);
    const [ratio] = await prometheus.query('sum(rate(switchboard_cache_reads_total{format="unknown"}[5m]))');
    expect(Number(ratio!.value[1])).toBeGreaterThan(0);
  }, 60_000);
});
