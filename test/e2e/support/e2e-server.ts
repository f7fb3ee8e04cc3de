import { freePort } from "../../../server/src/redis/local-redis-server.js";
import { EXTENSION_ORIGIN } from "../../../shared/protocol/index.js";
import { WEB_APP_DIR } from "../../helpers/chromium.js";
import { startServerProcess, type ServerProcess } from "../../helpers/server-process.js";

/** The real server for a browser test: the extension's origin allowed, the built web app at `/`. */
export async function startE2eServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  return startServerProcess({
    port,
    // PGlite's first start is slow on a busy 2-core runner.
    readyTimeoutMs: 60_000,
    env: {
      ALLOWED_ORIGINS: [EXTENSION_ORIGIN, `http://127.0.0.1:${port}`, `http://localhost:${port}`].join(","),
      WEB_APP_DIR,
      ...env,
    },
  });
}
