import { rename, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Registry } from "prom-client";
import type { Decision } from "./decision-log.js";

/**
 * How `cache:migrate`'s decisions reach Prometheus. The tool is a separate, short-lived process,
 * so it offers both ways operators use for batch jobs:
 *  - `--metrics-port`: it serves `/metrics` while it runs (add it as a scrape target);
 *  - `--metrics-textfile`: it writes the final counts for node-exporter's textfile collector
 *    (written to a temporary file and renamed, so the collector never reads half a file).
 * `dry_run` is a constant label so a dry run's "would migrate" never mixes with a real run.
 */
export class MigrationMetrics {
  readonly registry = new Registry();
  readonly #decisions: Counter<"decision" | "format">;
  readonly #running: Gauge;
  #server: Server | null = null;

  constructor(options: { dryRun: boolean }) {
    this.registry.setDefaultLabels({ dry_run: String(options.dryRun) });
    this.#decisions = new Counter({
      name: "switchboard_cache_migrate_decisions_total",
      help: "cache:migrate decisions by outcome (migrated, skipped, deleted, failed, pickle-skipped, expired, conflict) and the value's format",
      labelNames: ["decision", "format"] as const,
      registers: [this.registry],
    });
    this.#running = new Gauge({
      name: "switchboard_cache_migrate_running",
      help: "1 while a cache:migrate run is in progress, 0 once it ended",
      registers: [this.registry],
    });
  }

  /** The migrator's decision hook. */
  readonly record = (decision: Decision, format: string): void => {
    this.#decisions.inc({ decision, format });
  };

  running(running: boolean): void {
    this.#running.set(running ? 1 : 0);
  }

  /** Serve `/metrics` on `host:port` (port 0: any free one); resolves with the port. */
  async serve(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("Not found: scrape /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${error.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host }, () => resolve());
    });
    this.#server = server;
    return (server.address() as AddressInfo).port;
  }

  async writeTextfile(file: string): Promise<void> {
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, await this.registry.metrics());
    await rename(temporary, file);
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
