import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "test/bench/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each start their own app on port 0; run files in parallel, tests inside a file in order.
    fileParallelism: true,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
    // Every file's server statements are checked for a tenant filter after its tests (docs/scaling.md).
    setupFiles: ["test/support/sql-audit-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
