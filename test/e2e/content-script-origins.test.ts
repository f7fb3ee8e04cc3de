import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WINDOW_ENVELOPE_TAG, windowEnvelope, WindowDirection } from "../../shared/sdk/bridge.js";
import { TabRequestKind } from "../../shared/sdk/hub-messages.js";
import { configureAndSignIn, OPTIONS_PAGE } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep } from "./support/metrics.js";

// Issue 9, item 7: the content script — which lets a page read the user's messages and send as
// the user — joined every port of 127.0.0.1 and of the server's host. Now it joins exactly the
// configured server's origin; another local app (another loopback port, or the same port under
// another host name) gets nothing.
describe("the content script joins the configured server's origin only", () => {
  const world = useBrowserWorld();
  let otherApp: Server;
  let otherUrl: string;
  beforeAll(async () => {
    otherApp = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>another local app</title><p>another local app</p>"),
    );
    await new Promise<void>((resolve) => otherApp.listen(0, "127.0.0.1", resolve));
    otherUrl = `http://127.0.0.1:${(otherApp.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    otherApp.closeAllConnections(); // Chromium keeps its connection alive
    await new Promise<void>((resolve) => otherApp.close(() => resolve()));
  });

  /** Whether the content script ran in the page, and whether anything answers a bridge hello. */
  async function bridgeIn(page: Page): Promise<{ marked: boolean; answered: boolean }> {
    return page.evaluate(
      async ({ hello, tag, fromHub }) => {
        const answered = new Promise<boolean>((resolve) => {
          window.addEventListener("message", (event) => {
            if (event.source === window && (event.data as Record<string, unknown>)?.[tag] === fromHub) resolve(true);
          });
          setTimeout(() => resolve(false), 2000);
        });
        window.postMessage(hello, location.origin);
        return { marked: document.documentElement.dataset.switchboardExtension === "1", answered: await answered };
      },
      {
        hello: windowEnvelope(WindowDirection.toHub, { kind: TabRequestKind.hello, requestId: "probe", params: {} }),
        tag: WINDOW_ENVELOPE_TAG,
        fromHub: WindowDirection.fromHub,
      },
    );
  }

  it("present on the server's web app, absent on another loopback port and on localhost:<same port>", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    await configureAndSignIn(driven, server.url, "alice");

    const webApp = await driven.open(`${server.url}/`);
    await webApp.waitForFunction(() => document.documentElement.dataset.switchboardExtension === "1", undefined, { timeout: 10_000 });
    expect(await bridgeIn(webApp)).toEqual({ marked: true, answered: true });

    const other = await driven.open(otherUrl);
    await sleep(500); // the content script runs at document_start; give a wrong one every chance
    expect(await bridgeIn(other)).toEqual({ marked: false, answered: false });

    const sameServerOtherName = await driven.open(`${server.url.replace("127.0.0.1", "localhost")}/`);
    await sleep(500);
    expect(await bridgeIn(sameServerOtherName)).toEqual({ marked: false, answered: false });
  });

  it("the options page lists the matched origin, and follows a change of the server URL", { timeout: 60_000 }, async () => {
    const { server, driven } = world;
    const options = await driven.open(OPTIONS_PAGE);
    const list = options.getByTestId("content-script-matches").locator("li");
    const localhostUrl = server.url.replace("127.0.0.1", "localhost");
    for (const serverUrl of [localhostUrl, server.url]) {
      await options.locator('input[name="serverUrl"]').fill(serverUrl);
      await options.locator('button[type="submit"]').click();
      await options.getByText(`${serverUrl}/*`, { exact: true }).waitFor({ timeout: 10_000 });
      expect(await list.allTextContents()).toEqual([`${serverUrl}/*`]);
    }
    await options.close();
  });
});
