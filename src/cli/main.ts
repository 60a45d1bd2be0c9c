import { ExitCode, UserError } from '../errors.js';
import { interruption } from './context.js';
import { renderError } from './errors.js';
import { createProgram } from './program.js';

// The SDK's once-per-run Node 20 notice is noise on every command's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { program, invoked } = createProgram();

// Ctrl-C / SIGTERM: abort in-flight uploads (their multipart uploads are aborted); the index is never touched.
let interrupted = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (++interrupted > 1) process.exit(ExitCode.interrupted);
    interruption.abort(
      new UserError(`interrupted by ${signal}: open uploads were aborted and the channel index is untouched; run the command again`, ExitCode.interrupted),
    );
  });
}

let exitCode = 0;
try {
  await program.parseAsync(process.argv);
  exitCode = process.exitCode === undefined ? 0 : Number(process.exitCode);
} catch (error) {
  exitCode = renderError(interruption.signal.aborted ? interruption.signal.reason : error, invoked().optsWithGlobals());
  if (interruption.signal.aborted) exitCode = ExitCode.interrupted;
}
process.exit(exitCode);
