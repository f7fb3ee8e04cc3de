import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationMetrics } from "../../server/src/cache-migrate/migration-metrics.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";
import { REPO_ROOT } from "../helpers/server-process.js";

const METRIC_NAME = /\bswitchboard_[a-z0-9_]+\b/g;
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** Every `switchboard_*` name in the alert rules and the dashboard queries. */
function opsMetricNames(): { alerts: Set<string>; dashboard: Set<string> } {
  const alerts = new Set(readFileSync(path.join(REPO_ROOT, "ops/prometheus/alerts.yml"), "utf8").match(METRIC_NAME));
  const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, "ops/grafana/switchboard.json"), "utf8")) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
  };
  const names = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => t.expr.match(METRIC_NAME) ?? []));
  return { alerts, dashboard: names };
}

/** Names declared in a /metrics text (`# TYPE name kind`); a histogram also answers for its _bucket/_sum/_count series. */
function declared(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

function exists(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const base = name.replace(HISTOGRAM_SERIES, "");
  return base !== name && types.get(base) === "histogram";
}

describe("every metric the alerts and the dashboard use exists", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.stop());

  it("in a live server's /metrics (cache:migrate's in its own /metrics)", async () => {
    const serverTypes = declared(await (await fetch(`${server.url}/metrics`)).text());
    const migration = new MigrationMetrics({ dryRun: false });
    const port = await migration.serve(0, "127.0.0.1");
    const migrationTypes = declared(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    await migration.close();

    const { alerts, dashboard } = opsMetricNames();
    expect(alerts.size).toBeGreaterThan(10);
    expect(dashboard.size).toBeGreaterThan(10);
    const missing = [...new Set([...alerts, ...dashboard])].filter(
      (name) => !exists(name, name.startsWith("switchboard_cache_migrate_") ? migrationTypes : serverTypes),
    );
    expect(missing).toEqual([]);
  });

  it("the dashboard shows what operators asked for", () => {
    const { dashboard } = opsMetricNames();
    for (const name of [
      "switchboard_ws_connections",
      "switchboard_ws_connects_total",
      "switchboard_ws_replacements_total",
      "switchboard_ws_closes_total",
      "switchboard_ws_heartbeat_timeouts_total",
      "switchboard_delivery_latency_seconds_bucket",
      "switchboard_profile_requests_total",
      "switchboard_cache_reads_total",
      "switchboard_cache_migrate_decisions_total",
      "switchboard_redis_up",
    ])
      expect(dashboard.has(name), name).toBe(true);
  });
});
