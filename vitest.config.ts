import { defineConfig } from "vitest/config";

// Integration tests start real redis-server / Postgres / server processes: run files in a few
// forks, not one per core, so a 2-core machine is not oversubscribed.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
