import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { until } from "../helpers/until.js";

describe("the start banner (a real process)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // As `npm start` runs it: banner on, start-up logs at info.
    server = await startServerProcess({ env: { SWITCHBOARD_QUIET: "", LOG_LEVEL: "info" } });
  });
  afterAll(async () => server?.stop());

  it("comes after the start-up log lines, in one piece, and says where the extension is and how to load it", async () => {
    expect(await until(() => server.output().includes("Demo logins"), 10_000)).toBe(true);
    const lines = server.output().split("\n");
    const listening = lines.findIndex((line) => line.includes('"msg":"switchboard listening"'));
    const first = lines.findIndex((line) => line.includes("Switchboard is running at"));
    const last = lines.findIndex((line) => line.includes("Demo logins"));
    expect(listening).toBeGreaterThanOrEqual(0);
    expect(first).toBeGreaterThan(listening);
    // No JSON log line inside the banner.
    expect(lines.slice(first, last + 1).filter((line) => line.startsWith("{"))).toEqual([]);
    const banner = lines.slice(first, last + 1).join("\n");
    expect(banner).toContain(server.url);
    expect(banner).toMatch(/Extension .*dist\/extension/);
    expect(banner).toContain("chrome://extensions → Developer mode → Load unpacked");
  });
});
