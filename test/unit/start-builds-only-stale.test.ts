import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BuildEnv } from "../../extension/build-env.js";
import { planBuilds } from "../../scripts/build-if-stale.js";

const SETTINGS: BuildEnv = {
  serverUrl: "http://localhost:8080",
  webOrigins: ["http://localhost/*"],
  keepaliveMs: 20000,
  profileFreshMs: 300000,
  backoffBaseMs: 1000,
  outboxMaxMessages: 500,
  outboxMaxAgeMs: 604800000,
};

let root: string;
/** Writes `file` under the temporary repo with a modification time of `ageS` seconds ago. */
function file(relative: string, ageS: number, content = "x"): void {
  const full = path.join(root, relative);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  const time = new Date(Date.now() - ageS * 1000);
  utimesSync(full, time, time);
}
const actions = () => Object.fromEntries(planBuilds(root, SETTINGS).map((p) => [p.name, p.action]));

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "switchboard-start-"));
  file("package.json", 100);
  file("server/src/main.ts", 100);
  file("extension/src/app.tsx", 100);
  file("shared/protocol/index.ts", 100);
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe("npm start's build step", () => {
  it("builds what was never built", () => {
    expect(actions()).toEqual({ server: "build", "web app": "build", extension: "build" });
  });

  it("builds nothing when every build is newer than its sources", () => {
    file("dist/server/src/main.js", 10);
    file("dist/web/index.html", 10);
    file("dist/extension/manifest.json", 10);
    file("dist/extension.build.json", 10, JSON.stringify({ settings: SETTINGS, mode: "production", version: "0.1.0" }));
    expect(actions()).toEqual({ server: "fresh", "web app": "fresh", extension: "fresh" });
  });

  it("rebuilds only what a changed source feeds", () => {
    file("dist/server/src/main.js", 10);
    file("dist/web/index.html", 10);
    file("dist/extension/manifest.json", 10);
    file(
      "dist/extension.build.json",
      10,
      JSON.stringify({ settings: { ...SETTINGS, webOrigins: [...SETTINGS.webOrigins] }, mode: "production", version: "0.1.0" }),
    );
    file("server/src/main.ts", 1);
    expect(actions()).toEqual({ server: "build", "web app": "fresh", extension: "fresh" });
    file("extension/src/app.tsx", 1);
    expect(actions()).toEqual({ server: "build", "web app": "build", extension: "build" });
  });

  it("never overwrites a stale extension built with other settings (or with no record of them)", () => {
    file("dist/extension/manifest.json", 10);
    file(
      "dist/extension.build.json",
      10,
      JSON.stringify({ settings: { ...SETTINGS, serverUrl: "https://chat.example.com" }, mode: "production", version: "0.1.0" }),
    );
    file("extension/src/app.tsx", 1);
    const [, , extension] = planBuilds(root, SETTINGS);
    expect(extension).toMatchObject({ action: "kept", reason: expect.stringContaining("https://chat.example.com") });
    file("dist/extension.build.json", 10, "not json");
    expect(planBuilds(root, SETTINGS)[2]!.action).toBe("kept");
  });
});
