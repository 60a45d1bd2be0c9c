import { CommanderError } from 'commander';
import { ExitCode, UserError } from '../errors.js';
import { ChannelNotFoundError, ProtocolError } from '../protocol/errors.js';
import { FreshnessError } from '../protocol/freshness.js';
import { describeFileSystemError, isFileSystemError } from '../file-system-errors.js';
import type { Session } from './session.js';
import { CredentialsRequiredError } from '../client/fetch/private-access.js';

/** The exit code of an error the device library threw on purpose: the caller's input, or the store's. */
const protocolExitCode = (error: ProtocolError) => (error.fault === 'input' ? ExitCode.usage : ExitCode.failure);

/** The device library names the problem; the CLI adds which flag or command fixes it. */
function cliAdvice(error: unknown): string {
  if (error instanceof ChannelNotFoundError) return ' (--channel, --store or --from)';
  if (error instanceof FreshnessError && error.reason === 'expired') return "; the publisher runs 'update-publish refresh' (and schedules it)";
  if (error instanceof CredentialsRequiredError) return "; pass --credentials-command CMD, a command printing what 'update-publish access sign --json' prints";
  return '';
}

/**
 * The one place errors are rendered: a user error is one line (its message
 * names the fix); anything else is a bug and says so. Stacks only with --debug.
 */
export function renderError(error: unknown, options: { json?: boolean; debug?: boolean }, session: Session): number {
  const { stdout, stderr } = session.io;
  const printJson = (message: string, exitCode: number) =>
    options.json && stdout.write(`${JSON.stringify({ error: { message, exitCode } }, null, 2)}\n`);
  if (error instanceof CommanderError) {
    // commander already printed its message; help and --version are not failures.
    if (error.exitCode === 0) return ExitCode.ok;
    if (!options.json) return ExitCode.usage;
    // Under --json commander is silenced (run.ts): one line here, and no help for a missing command.
    const message = error.code === 'commander.help' ? 'give a command; see --help' : error.message.replace(/^error: /, '');
    stderr.write(`error: ${message}\n`);
    printJson(message, ExitCode.usage);
    return ExitCode.usage;
  }
  if (error instanceof Error && error.name === 'ExitPromptError') {
    stderr.write('cancelled; nothing was written\n');
    return ExitCode.interrupted;
  }
  const expected = error instanceof UserError || error instanceof ProtocolError;
  const exitCode = error instanceof UserError ? error.exitCode : error instanceof ProtocolError ? protocolExitCode(error) : ExitCode.failure;
  const message = session.redact(
    expected
      ? `${(error as Error).message}${cliAdvice(error)}`
      : // A path that cannot be written or read is the machine's state, not a bug: say which and why.
        isFileSystemError(error)
        ? describeFileSystemError(error)
        : `unexpected error: ${(error as Error)?.message ?? String(error)} (a bug in update-publish: rerun with --debug and report it)`,
  );
  stderr.write(`error: ${message}\n`);
  if (options.debug && error instanceof Error && error.stack) stderr.write(`${session.redact(error.stack)}\n`);
  printJson(message, exitCode);
  return exitCode;
}
