import { pino } from "pino";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./log/logger.js";
import { RedisBinaryMissingError } from "./redis/local-redis-server.js";
import { createSwitchboardServer } from "./server.js";
import { startBanner } from "./start-banner.js";

/** `npm start`: run one instance; SIGTERM/SIGINT shut it down gracefully within SHUTDOWN_TIMEOUT_MS. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchboard: configuration error: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  // One asynchronous stdout destination for the logs and the banner, so the banner comes after the
  // start-up log lines instead of among them.
  const stdout = pino.destination({ dest: 1, sync: false });
  const logger = createLogger({ level: config.logLevel, destination: stdout });
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

  let server: Awaited<ReturnType<typeof createSwitchboardServer>> | undefined;
  // Set when the embedded database is lost: the shutdown then ends with exit code 1.
  let exitCode = 0;
  let signals = 0;
  try {
    // Owner records, event history and live delivery in Redis (the default), so instances behind
    // one load balancer agree (docs/architecture.md#where-state-lives); in-process fallbacks while Redis is down.
    server = await createSwitchboardServer(config, {
      logger,
      // The embedded database is gone (its worker thread died): close the sockets with 1012 so
      // clients reconnect, and exit 1 so the supervisor starts a fresh process on the same data.
      onDatabaseLost: () => {
        exitCode = 1;
        stop("database lost");
      },
    });
  } catch (error) {
    if (error instanceof RedisBinaryMissingError) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(69); // EX_UNAVAILABLE
    }
    logger.fatal({ err: error }, "could not start");
    process.exit(1);
  }

  const started = server;
  logger.info({ url: started.url, instanceId: config.instanceId }, "switchboard listening");
  if (!process.env.SWITCHBOARD_QUIET) {
    stdout.write(
      startBanner({
        url: started.url,
        config,
        localRedisPort: started.localRedis?.port,
        metricsUrl: started.metricsListener ? `${started.metricsListener.url}/metrics` : config.metricsOnPublicListener ? `${started.url}/metrics` : null,
      }),
    );
  }

  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  function stop(signal: NodeJS.Signals | "database lost"): void {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    const force = setTimeout(() => {
      logger.error("shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    // Flush the asynchronous log destination before exiting, or the last lines are lost.
    void (server ? server.shutdown() : Promise.resolve()).then(() => logger.flush(() => process.exit(exitCode)));
  }
}

void main();
