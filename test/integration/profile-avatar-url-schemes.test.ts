import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestErrorCode, RestPath, type LoginResponse, type Profile, type RestError } from "../../shared/protocol/index.js";
import { api, login } from "../helpers/chat-client.js";
import { startTestServer, type TestServer } from "../helpers/in-process-server.js";

describe("avatarUrl schemes (real server)", () => {
  let server: TestServer;
  let alice: LoginResponse;
  beforeAll(async () => {
    server = await startTestServer();
    alice = await login(server.url, "alice");
  });
  afterAll(async () => server?.stop());

  it.each([
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:image/svg+xml;base64,PHN2Zy8+",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/a.png",
    "http://example.com/a.png",
  ])("refuses %s with a 400 naming avatarUrl", async (avatarUrl) => {
    const res = await api<RestError>(server.url, alice.accessToken, "PATCH", RestPath.profileMe, { avatarUrl });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(RestErrorCode.invalidBody);
    expect(res.body.error.message).toContain("Invalid avatarUrl:");
  });

  it.each(["https://cdn.example.com/a.png", "http://localhost:8080/a.png", "http://127.0.0.1/a.png"])("accepts %s", async (avatarUrl) => {
    const res = await api<Profile>(server.url, alice.accessToken, "PATCH", RestPath.profileMe, { avatarUrl });
    expect(res.status).toBe(200);
    expect(res.body.avatarUrl).toBe(avatarUrl);
  });

  it("still accepts null (no avatar)", async () => {
    expect((await api(server.url, alice.accessToken, "PATCH", RestPath.profileMe, { avatarUrl: null })).status).toBe(200);
  });
});
