import { defineConfig } from 'vitest/config';

/**
 * Tiers, each a vitest project: `npm run test:unit` runs unit alone (no build,
 * no servers); `npm test` builds, then runs every tier.
 * - unit: pure code and in-process libraries on temp folders.
 * - integration: the store and hook adapters against real local servers (moto, HTTP).
 * - e2e: the CLI end to end, in-process (test/helpers/cli.ts) and, where the
 *   process itself is the point (signals, a terminal, crashes), the built binary.
 */
export default defineConfig({
  test: {
    // Child processes and moto_server are slow on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Some runs spawn children and signal them: one process per file.
    pool: 'forks',
    // The SDK's Node 20 notice, once per test process, is noise (the CLI silences it the same way).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // A missing moto_server fails these tiers with the command to install it (never a silent skip).
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/helpers/require-servers.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/helpers/require-servers.ts'] } },
    ],
  },
});
