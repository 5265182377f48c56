import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    // A worker process runs file after file and keeps the modules it loaded (src, the drivers, fastify, the
    // AWS SDK) instead of loading them again for each of ~115 files (98 s of import in a 314 s run; the same 31
    // files took 108 s instead of 150 s). So a test file gives back what it changes in the process
    // (process.env, TZ, fake timers, cwd, listeners) in an afterAll/afterEach or a finally.
    isolate: false,
  },
});
