import type { Command } from 'commander';
import { ExitCode, UserError } from '../errors.js';
import { interruption, writes } from './context.js';
import { renderError } from './errors.js';
import { createProgram } from './program.js';

// The SDK's once-per-run Node 20 notice is noise on every command's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { program, invoked } = createProgram();

// Usage errors are thrown before a command's options are parsed, so --json is read from argv:
// commander stays silent and renderError prints the one error line and the JSON document.
const args = process.argv.slice(2);
const json = (args.includes('--') ? args.slice(0, args.indexOf('--')) : args).includes('--json');
if (json) {
  const silence = (command: Command): void => {
    command.configureOutput({ writeErr: () => {} }).showHelpAfterError(false);
    command.commands.forEach(silence);
  };
  silence(program);
}

const renderOptions = () => ({ ...invoked().optsWithGlobals(), ...(json && { json }) });

// Ctrl-C / SIGTERM: in-flight uploads are aborted and no further write lands before the index
// (see interruptible-store). A request stalled on the network may never notice: once the grace
// period is over the process stops anyway, as a second Ctrl-C does at once. Writes are atomic,
// so stopping mid-way never leaves half an object.
const INTERRUPT_GRACE_MS = 5000;
let interrupted = 0;
let interruptedBy: string | undefined;
/** What the interruption left, told when the process stops: before the index write, nothing changed. */
const interruptedError = (signal: string) =>
  writes.channelIndexWritten
    ? new UserError(
        `interrupted by ${signal} after the channel index was written: the release is live, steps after it (history, hooks) may not have run; check 'update-publish status' and run 'update-publish hooks run' if needed`,
        ExitCode.interrupted,
      )
    : new UserError(`interrupted by ${signal}: open uploads were aborted and the channel index is untouched; run the command again`, ExitCode.interrupted);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (++interrupted > 1) process.exit(ExitCode.interrupted);
    interruptedBy = signal;
    interruption.abort(interruptedError(signal));
    setTimeout(() => {
      renderError(interruptedError(signal), renderOptions());
      process.exit(ExitCode.interrupted);
    }, INTERRUPT_GRACE_MS).unref();
  });
}

let exitCode = 0;
try {
  await program.parseAsync(process.argv);
  exitCode = process.exitCode === undefined ? 0 : Number(process.exitCode);
  // Finished past an interruption (after the index write, hooks stopped): not a clean success.
  // The command's result is already on stdout, so only the line goes to stderr.
  if (interruption.signal.aborted) {
    process.stderr.write(`error: ${interruptedError(interruptedBy!).message}\n`);
    exitCode = ExitCode.interrupted;
  }
} catch (error) {
  exitCode = renderError(interruption.signal.aborted ? interruptedError(interruptedBy!) : error, renderOptions());
  if (interruption.signal.aborted) exitCode = ExitCode.interrupted;
}
process.exit(exitCode);
