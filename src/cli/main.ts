import { createRequire } from 'node:module';
import { Command } from 'commander';
import { interruption } from './context.js';
import { renderError } from './errors.js';
import { registerCommands } from './commands/index.js';

// The SDK's once-per-run Node 20 notice is noise on every command's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const program = new Command('update-publish')
  .description('Ship in-app content updates (offline packages) to mobile apps without an app-store release.')
  .version(version)
  .option('-c, --config <path>', 'config file (default: searched from the current folder)')
  .option('--store <url>', 'override the config store: a folder path or s3://bucket/prefix')
  .option('--json', 'print one JSON document on stdout; logs go to stderr; never prompts')
  .option('-q, --quiet', 'print only errors and the result')
  .option('--debug', 'show stack traces and SDK details on errors')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();
registerCommands(program);

// Ctrl-C / SIGTERM: abort in-flight uploads (their multipart uploads are aborted); the index is never touched.
let interrupted = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (++interrupted > 1) process.exit(130);
    interruption.abort(new Error(`interrupted by ${signal}`));
  });
}

let exitCode = 0;
try {
  await program.parseAsync(process.argv);
  exitCode = process.exitCode === undefined ? 0 : Number(process.exitCode);
} catch (error) {
  exitCode = renderError(interruption.signal.aborted ? interruption.signal.reason : error, program.opts());
  if (interruption.signal.aborted) exitCode = 130;
}
process.exit(exitCode);
