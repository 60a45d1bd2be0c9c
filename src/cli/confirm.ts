import type { CommandContext } from './context.js';

/**
 * Asks before a write at a terminal; proceeds without asking under --yes,
 * --json, CI or without a TTY (never hangs waiting for input).
 */
export async function confirmOrSkip(context: Pick<CommandContext, 'assumeYes' | 'dryRun'>, question: string): Promise<boolean> {
  if (context.assumeYes || context.dryRun) return true;
  // Loaded only when a person is asked: most runs (CI, --yes) never are.
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: question, default: false }, { output: process.stderr });
}
