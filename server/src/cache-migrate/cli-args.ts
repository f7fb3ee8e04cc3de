import { parseArgs } from "node:util";
import { MIGRATE_DEFAULTS as D } from "./migrator.js";

export const HELP = `Usage: npm run cache:migrate -- [options]

Migrates legacy user:{id} cache values (JSON, double-encoded JSON, gzip, zlib; pickle only with
--allow-pickle) to the v2 envelope on a live Redis, keeping each key's TTL. Safe to run while
the service is up: SCAN (never KEYS), bounded batches, compare-and-set writes (a newer write
or an expired key is never touched). Resumable: rerun the same command after a crash or Ctrl-C.

Connection
  --redis-url <url>        Redis to migrate (default: $REDIS_URL, else redis://127.0.0.1:6379)
  --cluster <h:p,...>      Redis Cluster seed nodes; every master is scanned

What to migrate
  --prefix <prefix>        Key prefix to scan; repeat for several (default: ${D.prefixes.join(", ")})
  --allow-pickle           Decode pickles as plain data (never executed; any global except
                           datetime.datetime rejects the value). Off by default.
  --pickle-prefix <p>      Prefixes whose pickles may be decoded; repeatable (default: ${D.picklePrefixes.join(", ")})
  --delete-unparseable     Delete values that cannot be parsed (default: report and keep)
  --dry-run                Decide and report everything, write nothing

Pace
  --batch-bytes <n>        Max value bytes read by the calls in flight together (default:
                           ${D.batchBytes} = ${D.batchBytes / 1024 / 1024} MB; k/m suffix ok)
  --batch-ms <n>           Max time of one call (read, decide, write), ms; a slower call
                           halves the next ones (default: ${D.batchMs})
  --rate <n>               Max keys per second (default: ${D.rate} = unlimited)
  --scan-count <n>         Keys per page, checkpointed after each; gathered by SCAN calls
                           of COUNT ≤ 250 (default: ${D.scanCount})
  --keys-per-call <n>      Keys per Redis call (default: ${D.keysPerCall}; smaller = shorter Redis stalls)
  --calls-in-flight <n>    Redis calls in flight at once (default: ${D.callsInFlight}; 1 = gentlest)
  --strategy <s>           bulk (Lua, many keys per call; standalone only) | pipeline
                           (one command per key). Default: bulk, pipeline on a cluster.
  --max-retries <n>        Retries after a transient error or a lost compare-and-set (default: ${D.maxRetries})

Checkpoint
  --run-id <id>            Checkpoint name; the same id resumes (default: the prefixes)
  --restart                Ignore an unfinished checkpoint and start over

Output
  --json                   Print the final report as JSON
  --top <n>                Key prefixes listed in the report (default: ${D.top})
  --log-level <level>      Decision log level (default: info; silent to mute)
  --log-sample <0..1>      Share of routine decisions logged (default: ${D.logSampleRate}; failures always)
  --log-file <path>        Write the decision log there (default: stderr)
  --metrics-port <n>       Serve Prometheus metrics (decisions by outcome) on this port while
                           running (0 = any free port, printed on stderr)
  --metrics-host <host>    Address for --metrics-port (default: 127.0.0.1)
  --metrics-textfile <p>   Write the final metrics there for node-exporter's textfile
                           collector (a *.prom file in its --collector.textfile.directory)
  --no-progress            No progress bar (it is shown only on a TTY anyway)
  -h, --help               This help

Exit status: 0 done; 3 stopped before the end (rerun to resume); 2 bad usage; 1 error.
`;

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\nRun with --help for the options.`);
    this.name = "UsageError";
  }
}

export interface CliOptions {
  help: boolean;
  redisUrl: string;
  cluster: { host: string; port: number }[] | undefined;
  prefixes: string[];
  allowPickle: boolean;
  picklePrefixes: string[];
  deleteUnparseable: boolean;
  dryRun: boolean;
  batchBytes: number;
  batchMs: number;
  rate: number;
  scanCount: number;
  keysPerCall: number;
  callsInFlight: number;
  strategy: "bulk" | "pipeline" | undefined;
  maxRetries: number;
  runId: string | undefined;
  restart: boolean;
  json: boolean;
  top: number;
  logLevel: string;
  logSample: number;
  logFile: string | undefined;
  progress: boolean;
  metricsPort: number | undefined;
  metricsHost: string;
  metricsTextfile: string | undefined;
}

function count(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const match = /^(\d+)([kKmM][bB]?)?$/.exec(raw.trim());
  const value = match ? Number(match[1]) * (match[2] ? (match[2][0]!.toLowerCase() === "k" ? 1024 : 1024 * 1024) : 1) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min} (got "${raw}").`);
  return value;
}

function port(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new UsageError(`--${name} must be a port number 0–65535 (got "${raw}").`);
  return value;
}

function hostPorts(raw: string): { host: string; port: number }[] {
  return raw.split(",").map((part) => {
    const at = part.lastIndexOf(":");
    const port = Number(part.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`--cluster expects host:port[,host:port...] (got "${part}").`);
    return { host: part.slice(0, at), port };
  });
}

export function parseCliArgs(argv: string[], env: Record<string, string | undefined> = process.env): CliOptions {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types this from the assignment below (parseArgs infers every option).
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        "redis-url": { type: "string" },
        cluster: { type: "string" },
        prefix: { type: "string", multiple: true },
        "allow-pickle": { type: "boolean" },
        "pickle-prefix": { type: "string", multiple: true },
        "delete-unparseable": { type: "boolean" },
        "dry-run": { type: "boolean" },
        "batch-bytes": { type: "string" },
        "batch-ms": { type: "string" },
        rate: { type: "string" },
        "scan-count": { type: "string" },
        "keys-per-call": { type: "string" },
        "calls-in-flight": { type: "string" },
        strategy: { type: "string" },
        "max-retries": { type: "string" },
        "run-id": { type: "string" },
        restart: { type: "boolean" },
        json: { type: "boolean" },
        top: { type: "string" },
        "log-level": { type: "string" },
        "log-sample": { type: "string" },
        "log-file": { type: "string" },
        "no-progress": { type: "boolean" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        "metrics-textfile": { type: "string" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const strategy = values.strategy;
  if (strategy !== undefined && strategy !== "bulk" && strategy !== "pipeline")
    throw new UsageError(`--strategy must be bulk or pipeline (got "${strategy}").`);
  const logSample = values["log-sample"] === undefined ? D.logSampleRate : Number(values["log-sample"]);
  if (!(logSample >= 0 && logSample <= 1)) throw new UsageError(`--log-sample must be between 0 and 1 (got "${values["log-sample"]}").`);
  const prefixes = values.prefix ?? [...D.prefixes];
  if (prefixes.some((p) => p === "")) throw new UsageError("--prefix must not be empty (that would scan every key).");
  const cluster = values.cluster ? hostPorts(values.cluster) : undefined;
  if (cluster && strategy === "bulk") throw new UsageError("--strategy bulk is for a standalone Redis; a cluster uses pipeline.");
  return {
    help: values.help ?? false,
    redisUrl: values["redis-url"] ?? env.REDIS_URL ?? "redis://127.0.0.1:6379",
    cluster,
    prefixes,
    allowPickle: values["allow-pickle"] ?? false,
    picklePrefixes: values["pickle-prefix"] ?? [...D.picklePrefixes],
    deleteUnparseable: values["delete-unparseable"] ?? false,
    dryRun: values["dry-run"] ?? false,
    batchBytes: count("batch-bytes", values["batch-bytes"], D.batchBytes, 1),
    batchMs: count("batch-ms", values["batch-ms"], D.batchMs, 1),
    rate: count("rate", values.rate, D.rate),
    scanCount: count("scan-count", values["scan-count"], D.scanCount, 1),
    keysPerCall: count("keys-per-call", values["keys-per-call"], D.keysPerCall, 1),
    callsInFlight: count("calls-in-flight", values["calls-in-flight"], D.callsInFlight, 1),
    strategy,
    maxRetries: count("max-retries", values["max-retries"], D.maxRetries),
    runId: values["run-id"],
    restart: values.restart ?? false,
    json: values.json ?? false,
    top: count("top", values.top, D.top, 1),
    logLevel: values["log-level"] ?? "info",
    logSample,
    logFile: values["log-file"],
    progress: !(values["no-progress"] ?? false),
    metricsPort: values["metrics-port"] === undefined ? undefined : port("metrics-port", values["metrics-port"]),
    metricsHost: values["metrics-host"] ?? "127.0.0.1",
    metricsTextfile: values["metrics-textfile"],
  };
}
