/**
 * vitest globalSetup of the integration and e2e tiers: the programs their
 * tests run for real must be installed (test/helpers/prerequisites.ts):
 * moto_server always, tmux, Java, zstd and unzip under CI. A missing one fails
 * the run with the command that installs it, never a silent skip that passes.
 */
import { MOTO, missingPrerequisites } from './prerequisites.js';

export const MOTO_MISSING = MOTO.hint;

export default function requireServers(): void {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new Error(missing.map((program) => program.hint).join('\n'));
}
