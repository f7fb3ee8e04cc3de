import { describe, expect, it } from "vitest";
import { RestPath } from "../../shared/protocol/index.js";
import { login } from "../helpers/chat-client.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { metric, PROFILE_GET_200, PROFILE_GET_304 } from "./support/metrics.js";

// Node's fetch adds `Cache-Control: no-cache` to a request carrying If-None-Match, and Express then
// never answers 304. The hub runs in Chromium, whose fetch sends `Cache-Control: max-age=0` for the
// same request (Chromium 156), which leaves a matching strong ETag free to get its 304. This pins
// it: the conditional GET the hub makes, made from a page of the app in real Chromium, is a 304.
describe("a conditional profile GET from Chromium", () => {
  const world = useBrowserWorld();

  it("gets 304 for a matching ETag and 200 for a stale one", { timeout: 60_000 }, async () => {
    const { server, driven } = world;
    const alice = await login(server.url, "alice");
    const page = await driven.open(`${server.url}/`);
    const conditionalGet = (etag: string | null) =>
      page.evaluate(
        async ({ path, token, etag }) => {
          const headers: Record<string, string> = { authorization: `Bearer ${token}` };
          if (etag) headers["if-none-match"] = etag;
          const response = await fetch(path, { headers });
          return { status: response.status, etag: response.headers.get("etag") };
        },
        { path: RestPath.profileMe, token: alice.accessToken, etag },
      );
    const first = await conditionalGet(null);
    expect(first.status).toBe(200);
    expect(first.etag).toMatch(/^"[^"]+"$/);

    const before304 = await metric(server, "switchboard_http_requests_total", PROFILE_GET_304);
    const again = await conditionalGet(first.etag);
    expect(again.status).toBe(304);
    expect(await metric(server, "switchboard_http_requests_total", PROFILE_GET_304)).toBe(before304 + 1);

    const before200 = await metric(server, "switchboard_http_requests_total", PROFILE_GET_200);
    expect((await conditionalGet('"not-the-current-etag"')).status).toBe(200);
    expect(await metric(server, "switchboard_http_requests_total", PROFILE_GET_200)).toBe(before200 + 1);
  });
});
