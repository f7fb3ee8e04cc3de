import { defineConfig } from "vitest/config";

// Integration tests start real redis-server / Postgres / server processes: run files in a few
// forks, not one per core, so a 2-core machine is not oversubscribed.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // One initialised PGlite folder for the whole run; test servers start from copies of it.
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // In CI also a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results/vitest.json" }]] : ["default"],
  },
});
