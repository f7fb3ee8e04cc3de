import { afterAll, beforeAll } from "vitest";
import { launchDrivenBrowser, type DrivenBrowser, type LaunchOptions } from "../../helpers/chromium.js";
import type { ServerProcess } from "../../helpers/server-process.js";
import { startE2eServer } from "./e2e-server.js";

export interface BrowserWorld {
  readonly server: ServerProcess;
  /** The first (or only) browser. */
  readonly driven: DrivenBrowser;
  /** Every browser, each its own profile. */
  readonly browsers: DrivenBrowser[];
}

/**
 * Registers `beforeAll`/`afterAll` for a test file: the real server (with `env`) and `browsers`
 * Chromium instances (with the extension unless `launch` says `extensionDir: null`). The returned handle is filled before the tests run.
 */
export function useBrowserWorld(env: Record<string, string> = {}, browsers = 1, launch: LaunchOptions = {}): BrowserWorld {
  let server: ServerProcess | undefined;
  let started: DrivenBrowser[] = [];
  beforeAll(async () => {
    server = await startE2eServer(env);
    started = await Promise.all(Array.from({ length: browsers }, () => launchDrivenBrowser(launch)));
  });
  afterAll(async () => {
    await Promise.all(started.map((browser) => browser.close()));
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error("useBrowserWorld: the server is only there inside tests (after beforeAll).");
      return server;
    },
    get driven() {
      return started[0]!;
    },
    get browsers() {
      return started;
    },
  };
}
