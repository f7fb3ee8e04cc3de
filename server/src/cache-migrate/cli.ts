#!/usr/bin/env node
import { pino } from "pino";
import { Cluster, Redis } from "ioredis";
import { pathToFileURL } from "node:url";
import type { Logger } from "../log/logger.js";
import { BulkKeyStore } from "./bulk-key-store.js";
import { HELP, parseCliArgs, UsageError, type CliOptions } from "./cli-args.js";
import type { KeyStore } from "./key-store.js";
import { runMigration } from "./migrator.js";
import { PipelineKeyStore } from "./pipeline-key-store.js";
import { MigrationMetrics } from "./migration-metrics.js";
import { createProgress } from "./progress.js";
import { formatReport } from "./report.js";

/** Exit status: 0 done; 3 stopped early (resumable); 2 bad usage; 1 error. */
export const EXIT = { done: 0, error: 1, usage: 2, incomplete: 3 } as const;

interface Connection {
  control: Redis | Cluster;
  stores: KeyStore[];
  close(): void;
}

function nodeId(node: Redis): string {
  return `${node.options.host ?? "127.0.0.1"}:${node.options.port ?? 6379}`;
}

async function connect(options: CliOptions, logger: Logger): Promise<Connection> {
  const onError = (error: Error) => logger.warn({ err: error.message }, "Redis connection error");
  if (options.cluster) {
    const cluster = new Cluster(options.cluster, { redisOptions: { maxRetriesPerRequest: 3 } });
    cluster.on("error", onError);
    await new Promise<void>((resolve, reject) => {
      cluster.once("ready", () => resolve());
      cluster.once("error", reject);
    });
    // SCAN runs per master: each node only lists its own slots' keys.
    const stores = cluster.nodes("master").map((node) => new PipelineKeyStore(node, { id: nodeId(node) }));
    return { control: cluster, stores, close: () => cluster.disconnect() };
  }
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  redis.on("error", onError);
  await redis.connect();
  const id = nodeId(redis);
  const store = options.strategy === "pipeline" ? new PipelineKeyStore(redis, { id }) : new BulkKeyStore(redis, { id });
  return { control: redis, stores: [store], close: () => redis.disconnect() };
}

/**
 * Lines are written in chunks of at least this many bytes (sonic-boom `minLength`; flushed at
 * exit, and on Ctrl-C). Without it every line was its own `fs.write` — measured on the 2-core
 * box, 15 µs a line against 8 µs, about 1 µs a key at the default 10 % sampling. A `kill -9`
 * loses at most this much of the log tail; the checkpoint does not depend on it.
 */
const LOG_BUFFER_BYTES = 8 * 1024;

/**
 * A plain pino logger: `DecisionLog` masks what it writes itself. The shared `createLogger`
 * would mask every string again (measured ~35 µs a line, a third of this tool's time at 10 %
 * sampling) and read 8-digit user ids in keys as phone numbers (`user:103****1014`), which would
 * leave operators unable to find a key.
 */
function decisionLogger(options: CliOptions): { logger: Logger; flush(): void } {
  const destination = pino.destination({ dest: options.logFile ?? 2, sync: false, mkdir: true, minLength: LOG_BUFFER_BYTES });
  const logger = pino({ name: "cache-migrate", level: options.logLevel }, destination);
  return { logger, flush: () => destination.flushSync() };
}

/** Where the CLI writes: the report to stdout; messages (and the progress bar on a TTY) to stderr. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
}

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n`);
    return error instanceof UsageError ? EXIT.usage : EXIT.error;
  }
  if (options.help) {
    io.stdout.write(HELP);
    return EXIT.done;
  }
  const { logger, flush } = decisionLogger(options);
  const abort = new AbortController();
  const onSignal = () => {
    io.stderr.write("\nStopping after the current page; rerun the same command to resume.\n");
    abort.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let connection: Connection | undefined;
  const metrics = options.metricsPort !== undefined || options.metricsTextfile ? new MigrationMetrics({ dryRun: options.dryRun }) : null;
  try {
    if (metrics && options.metricsPort !== undefined) {
      const port = await metrics.serve(options.metricsPort, options.metricsHost);
      io.stderr.write(`cache:migrate: metrics on http://${options.metricsHost}:${port}/metrics\n`);
    }
    metrics?.running(true);
    connection = await connect(options, logger);
    const report = await runMigration({
      stores: connection.stores,
      control: connection.control,
      prefixes: options.prefixes,
      allowPickle: options.allowPickle,
      picklePrefixes: options.picklePrefixes,
      deleteUnparseable: options.deleteUnparseable,
      dryRun: options.dryRun,
      batchBytes: options.batchBytes,
      batchMs: options.batchMs,
      rate: options.rate,
      scanCount: options.scanCount,
      keysPerCall: options.keysPerCall,
      callsInFlight: options.callsInFlight,
      maxRetries: options.maxRetries,
      runId: options.runId,
      restart: options.restart,
      top: options.top,
      logger,
      logSampleRate: options.logSample,
      progress: createProgress(io.stderr as NodeJS.WriteStream, options.progress),
      signal: abort.signal,
      ...(metrics ? { onDecision: metrics.record } : {}),
    });
    io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return report.complete ? EXIT.done : EXIT.incomplete;
  } catch (error) {
    logger.error({ err: (error as Error).message }, "cache migration failed");
    io.stderr.write(`cache:migrate failed: ${(error as Error).message}\n`);
    return EXIT.error;
  } finally {
    metrics?.running(false);
    if (metrics && options.metricsTextfile) {
      await metrics
        .writeTextfile(options.metricsTextfile)
        .catch((error: Error) => io.stderr.write(`cache:migrate: could not write --metrics-textfile: ${error.message}\n`));
    }
    await metrics?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    connection?.close();
    flush();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
