import { CommanderError } from 'commander';
import { ExitCode, UserError } from '../errors.js';
import { redactSecrets } from './redact.js';

/**
 * The one place errors are rendered: a user error is one line (its message
 * names the fix); anything else is a bug and says so. Stacks only with --debug.
 */
export function renderError(error: unknown, options: { json?: boolean; debug?: boolean }): number {
  const printJson = (message: string, exitCode: number) =>
    options.json && process.stdout.write(`${JSON.stringify({ error: { message, exitCode } }, null, 2)}\n`);
  if (error instanceof CommanderError) {
    // commander already printed its message; help and --version are not failures.
    if (error.exitCode === 0) return ExitCode.ok;
    if (!options.json) return ExitCode.usage;
    // Under --json commander is silenced (main.ts): one line here, and no help for a missing command.
    const message = error.code === 'commander.help' ? 'give a command; see --help' : error.message.replace(/^error: /, '');
    process.stderr.write(`error: ${message}\n`);
    printJson(message, ExitCode.usage);
    return ExitCode.usage;
  }
  if (error instanceof Error && error.name === 'ExitPromptError') {
    process.stderr.write('cancelled; nothing was written\n');
    return ExitCode.interrupted;
  }
  const userError = error instanceof UserError;
  const exitCode = userError ? error.exitCode : ExitCode.failure;
  const message = redactSecrets(
    userError
      ? error.message
      : `unexpected error: ${(error as Error)?.message ?? String(error)} (a bug in update-publish: rerun with --debug and report it)`,
  );
  process.stderr.write(`error: ${message}\n`);
  if (options.debug && error instanceof Error && error.stack) process.stderr.write(`${redactSecrets(error.stack)}\n`);
  printJson(message, exitCode);
  return exitCode;
}
