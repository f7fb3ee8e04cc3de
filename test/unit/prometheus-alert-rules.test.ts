import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { promtool } from "../helpers/prometheus.js";
import { REPO_ROOT } from "../helpers/server-process.js";

const RULES = path.join(REPO_ROOT, "ops/prometheus/alerts.yml");
const RULE_TESTS = path.join(REPO_ROOT, "ops/prometheus/alerts.test.yml");
const RUNBOOK = path.join(REPO_ROOT, "docs/runbook.md");

interface Rule {
  alert: string;
  annotations: Record<string, string>;
}
interface RuleTest {
  alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }>;
}

const rules = (parse(readFileSync(RULES, "utf8")) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const tests = (parse(readFileSync(RULE_TESTS, "utf8")) as { tests: RuleTest[] }).tests;

describe("Prometheus alert rules (ops/prometheus/alerts.yml)", () => {
  it("are valid: promtool check rules", () => {
    const { status, output } = promtool("check", "rules", RULES);
    expect(output).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  it("behave as their unit tests say: promtool test rules", () => {
    const { status, output } = promtool("test", "rules", RULE_TESTS);
    expect(output, output).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  it("every alert is tested firing and not firing", () => {
    const cases = tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules) {
      const own = cases.filter((c) => c.alertname === alert);
      expect(
        own.some((c) => c.exp_alerts.length > 0),
        `${alert} firing`,
      ).toBe(true);
      expect(
        own.some((c) => c.exp_alerts.length === 0),
        `${alert} not firing`,
      ).toBe(true);
    }
  });

  it("every alert links to its own section of docs/runbook.md", () => {
    const runbook = readFileSync(RUNBOOK, "utf8");
    // GitHub's anchors: lower case, punctuation dropped, spaces → dashes.
    const anchors = new Set(
      [...runbook.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    for (const { alert, annotations } of rules) {
      expect(annotations.runbook_url).toBe(`docs/runbook.md#${alert.toLowerCase()}`);
      expect(anchors.has(alert.toLowerCase()), `docs/runbook.md has a "${alert}" heading`).toBe(true);
    }
  });
});
