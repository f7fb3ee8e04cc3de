import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestErrorCode, type RestError } from "../../shared/protocol/index.js";
import { WEB_APP_DIR } from "../helpers/chromium.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

describe("unknown paths (real server serving the built web app)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ WEB_APP_DIR });
  });
  afterAll(async () => server?.stop());

  it("answers a JSON 404 for an unknown non-API path, whatever the method", async () => {
    for (const [method, path] of [
      ["GET", "/no/such/page"],
      ["GET", "/missing.html"],
      ["GET", "/assets/missing.js"],
      ["POST", "/"],
      ["DELETE", "/anything"],
      ["GET", "/api/no/such/route"],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await res.json()) as RestError).error.code).toBe(RestErrorCode.notFound);
    }
  });

  it("still serves the web app's own page at / and its files", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const index = await fetch(`${server.url}/index.html`);
    expect(index.status).toBe(200);
  });
});
