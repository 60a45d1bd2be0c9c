/**
 * vitest globalSetup of the integration and e2e tiers: the local servers their
 * tests run against must be installed. A missing one fails the run with the
 * command that installs it, never a silent skip that passes.
 */
import { spawnSync } from 'node:child_process';

export const MOTO_MISSING =
  'moto_server is not installed, and the S3 and AWS tests need it: pip install "moto[server]" (npm run test:unit runs the unit tests alone)';

export default function requireServers(): void {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status !== 0) throw new Error(MOTO_MISSING);
}
