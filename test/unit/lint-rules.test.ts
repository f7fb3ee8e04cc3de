import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientFrameType, CloseReason, ServerFrameType } from "../../shared/protocol/index.js";

/**
 * The project's own lint rules (biome.json overrides and the GritQL plugins in lint/) run on a
 * scratch copy of the configuration with files that break them, so a rule that silently stops
 * matching fails here, not in review.
 */
const repoRoot = path.resolve(import.meta.dirname, "../..");
const biome = path.join(repoRoot, "node_modules/.bin/biome");
const run = promisify(execFile);

interface Diagnostic {
  category: string;
  message: string;
  location: { path: string };
}

let scratch: string;

async function lint(files: Record<string, string>): Promise<Diagnostic[]> {
  const dir = await mkdtemp(path.join(scratch, "case-"));
  await cp(path.join(repoRoot, "lint"), path.join(dir, "lint"), { recursive: true });
  const config = JSON.parse(await readFile(path.join(repoRoot, "biome.json"), "utf8")) as Record<string, unknown>;
  delete config.$schema;
  config.vcs = { enabled: false };
  await writeFile(path.join(dir, "biome.json"), JSON.stringify(config));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  // Exit code 1 when it finds errors: the JSON report is on stdout either way.
  const { stdout } = await run(biome, ["lint", "--reporter=json", "--max-diagnostics=200", "."], { cwd: dir }).catch((error: { stdout?: string }) => ({
    stdout: error.stdout ?? "",
  }));
  const report = JSON.parse(stdout) as { diagnostics: Diagnostic[] };
  return report.diagnostics.filter((d) => d.category === "plugin" || d.category === "lint/style/noRestrictedImports");
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "switchboard-lint-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("project lint rules", () => {
  it("refuse close codes, close reasons and frame types written as literals outside shared/protocol", async () => {
    const found = await lint({
      "server/src/bad.ts": [
        'export function f(ws: { close(code: number, reason: string): void }) { ws.close(4001, "x"); }',
        'export const reason = "Heartbeat timeout";',
        'export const frame = { type: "welcome" };',
        'export const isPong = (frame: { type: string }) => frame.type === "pong";',
      ].join("\n"),
      "shared/protocol/fine.ts": 'export const ok = { type: "welcome", reason: "Heartbeat timeout" };\n',
    });
    expect(found.map((d) => `${d.location.path} ${d.message.split(":")[0]}`).sort()).toEqual([
      "server/src/bad.ts Close code literal",
      "server/src/bad.ts Close reason literal",
      "server/src/bad.ts Frame type literal",
      "server/src/bad.ts Frame type literal",
    ]);
  });

  it("let only the one profile module request the profile endpoint", async () => {
    const found = await lint({
      "extension/src/ui/poller.ts": 'import { RestPath } from "../../../shared/protocol/index.js";\nexport const poll = () => fetch(RestPath.profileMe);\n',
      "shared/sdk/poller.ts": 'export const poll = () => fetch("/api/users/profile/me?_t=1");\n',
      "server/src/http/routes/profile.ts": 'import { RestPath } from "../../../../shared/protocol/index.js";\nexport const path = RestPath.profileMe;\n',
    });
    expect(found.map((d) => d.location.path).sort()).toEqual(["extension/src/ui/poller.ts", "shared/sdk/poller.ts"]);
  });

  it("keep the layers apart: server/ and extension/ never import each other, shared/ imports neither", async () => {
    const found = await lint({
      "server/src/a.ts": 'import { x } from "../../extension/src/b.js";\nexport const y = x;\n',
      "extension/src/a.ts": 'import { x } from "../../server/src/b.js";\nexport const y = x;\n',
      "shared/sdk/a.ts": 'import { x } from "../../server/src/b.js";\nexport const y = x;\n',
    });
    expect(found.map((d) => d.location.path).sort()).toEqual(["extension/src/a.ts", "server/src/a.ts", "shared/sdk/a.ts"]);
  });

  it("keep the online cache away from the migration tool and its pickle walker", async () => {
    const found = await lint({
      "server/src/cache/a.ts": 'import { x } from "../cache-migrate/pickle-walker.js";\nexport const y = x;\n',
      "server/src/cache/b.ts": 'import { x } from "../../../extension/src/b.js";\nexport const y = x;\n',
      "server/src/cache-migrate/c.ts": 'import { x } from "../cache/detect-format.js";\nexport const y = x;\n',
    });
    expect(found.map((d) => d.location.path).sort()).toEqual(["server/src/cache/a.ts", "server/src/cache/b.ts"]);
  });

  it("name every close reason and frame type of the contract (a new one must be added to lint/)", async () => {
    const reasons = await readFile(path.join(repoRoot, "lint/close-reason-literal.grit"), "utf8");
    for (const reason of Object.values(CloseReason)) expect(reasons, reason).toContain(`\`"${reason}"\``);
    const frames = await readFile(path.join(repoRoot, "lint/frame-type-literal.grit"), "utf8");
    for (const type of [...Object.values(ClientFrameType), ...Object.values(ServerFrameType)]) expect(frames, type).toContain(`\`"${type}"\``);
  });
});
