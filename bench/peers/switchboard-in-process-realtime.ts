/**
 * Switchboard with its realtime layer in this process (`localRealtime`: the owner registry, the
 * event history and delivery in memory) instead of Redis — for `npm run bench:peers` only. It
 * is the same server, store and protocol as the `Switchboard + Postgres` target, minus what lets
 * several instances agree: the owner claim and release, the history append and its routing, all
 * Redis round trips. Side by side with that target it measures what those guarantees cost a
 * connect and a message. Correct for one instance only, so never a way to run the product.
 */
import { loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/log/logger.js";
import { createSwitchboardServer, localRealtime } from "../../server/src/server.js";

const config = loadConfig();
const server = await createSwitchboardServer(config, { logger: createLogger({ level: config.logLevel }), realtime: localRealtime });
// The bench waits for `/readyz`, and ends it with SIGTERM: exiting through `process.exit` after
// the shutdown writes the profile `--cpu-prof` asked for.
process.once("SIGTERM", () => void server.shutdown().then(() => process.exit(0)));
