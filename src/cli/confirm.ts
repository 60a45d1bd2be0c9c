import type { Session } from './session.js';

/**
 * Asks before a write at a terminal; proceeds without asking under --yes,
 * --json, CI or without a TTY (never hangs waiting for input).
 */
export async function confirmOrSkip(
  context: { assumeYes: boolean; dryRun: boolean; session: Session },
  question: string,
): Promise<boolean> {
  if (context.assumeYes || context.dryRun) return true;
  // Loaded only when a person is asked: most runs (CI, --yes) never are.
  const { confirm } = await import('@inquirer/prompts');
  const { stdin, stderr } = context.session.io;
  return confirm({ message: question, default: false }, { input: stdin, output: stderr });
}
