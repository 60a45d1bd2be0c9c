import { once } from 'node:events';
import type { Command } from 'commander';
import { osUser } from '../../actor.js';
import { dryRunStore } from '../../store/dry-run-store.js';
import { withContext, type CommandContext, type GlobalOptions } from '../context.js';
import { readHealth } from '../../workflows/health.js';
import type { ReleaseHealth } from '../../console/health.js';
import type { Session } from '../session.js';
import { portOf } from '../port-option.js';

interface ConsoleFlags extends GlobalOptions {
  port: string;
  host: string;
  readOnly?: boolean;
  open: boolean;
  receipts?: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

// JSON: { url } once listening; runs until Ctrl-C or SIGTERM (exit 130).
export function registerConsole(program: Command, session: Session): void {
  program
    .command('console')
    .description('a local web console over the store: what each channel serves, rollouts, history, switches; changes through the same workflows as the CLI')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '0')
    .option('--host <address>', 'address to listen on; anything but this machine (127.0.0.1) lets others on the network try the token', '127.0.0.1')
    .option('--read-only', 'show, never change: every write is refused and the pages have no action buttons')
    .option('--no-open', 'do not open the browser (it opens at a terminal by default)')
    .option('--receipts <source>', 'device receipts to show and advance rollouts by (default: config receipts.source): a log folder, s3://bucket/prefix or athena://workgroup/database.table')
    .addHelpText(
      'after',
      `
Prints the console's URL (first line on stdout), which carries a token valid while the console
runs: keep it to yourself. Every change asks for confirmation with a dry run first, and is
recorded in history as console:<user>.

Examples:
  $ update-publish console
  $ update-publish console --read-only --port 4100 --no-open
  $ update-publish console --json --no-open     # { "url": … } for scripts and tests`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<ConsoleFlags>();
      const port = portOf(flags.port);
      // The console imports its UI only when it runs: no other command pays for it.
      const { startConsole } = await import('../../console/server.js');
      await withContext(
        session,
        flags,
        async (context) => {
          const { output } = context;
          const receiptsSource = flags.receipts ?? context.config.receipts?.source;
          if (!LOOPBACK_HOSTS.has(flags.host)) {
            output.warn(`listening on ${flags.host}: anyone who can reach this machine and has the URL can change releases; prefer 127.0.0.1 with an SSH tunnel`);
          }
          const running = await startConsole(
            {
              store: context.store,
              output,
              runtime: {
                knownChannel: context.knownChannel,
                receiptsSource,
                // The page confirmed (after showing the dry run): the workflow does not ask again.
                context: ({ dryRun, output: requestOutput }) => ({
                  ...context,
                  output: requestOutput,
                  dryRun,
                  store: dryRun ? dryRunStore(context.store, (line) => requestOutput.info(line)) : context.store,
                  confirm: async () => true,
                }),
              },
            },
            {
              host: flags.host,
              port,
              readOnly: Boolean(flags.readOnly),
              actor: `console:${osUser()}`,
              ...(receiptsSource !== undefined && { health: consoleHealth(context, receiptsSource) }),
            },
          );
          session.interruptionMeans = `stopped the console`;
          try {
            output.result({ url: running.url }, () => running.url);
            output.info(`console of ${context.store.location}${flags.readOnly ? ' (read-only)' : ''}; Ctrl-C stops`);
            if (flags.open && session.terminal) {
              const { default: openBrowser } = await import('open');
              await openBrowser(running.url).catch(() => output.warn('could not open a browser: open the URL above yourself'));
            }
            const signal = session.interruption.signal;
            if (!signal.aborted) await once(signal, 'abort');
          } finally {
            await running.close();
          }
        },
        { configOptional: true },
      );
    });
}

/** How long the console reuses what it read of the receipts: logs arrive hourly, pages load often. */
const HEALTH_CACHE_MS = 60_000;
/** The window the console shows, as `health` by default. */
const HEALTH_WINDOW_MS = 7 * 86_400_000;

/** The console's device outcomes: `health --json` over the last 7 days of config receipts.source, read at most once a minute. */
function consoleHealth(context: CommandContext, source: string): () => Promise<ReleaseHealth[]> {
  let cached: { at: number; releases: Promise<ReleaseHealth[]> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > HEALTH_CACHE_MS) {
      const releases = readHealth(context, { source, window: { from: now - HEALTH_WINDOW_MS, to: now } }).then((report) =>
        report.releases.map((release) => ({ ...release, channel: release.channel ?? '' })),
      );
      // A failed read is not kept: the next page load tries again.
      releases.catch(() => (cached = undefined));
      cached = { at: now, releases };
    }
    return cached.releases;
  };
}
