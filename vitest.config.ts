import { defineConfig } from 'vitest/config';

// `npm test` builds before vitest runs: e2e tests spawn the built CLI (dist/).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes and moto_server are slow on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests set process.exitCode / spawn children: keep each file in its own process.
    pool: 'forks',
    // The SDK's Node 20 notice, once per test process, is noise (the CLI silences it the same way).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
