import type { Command } from 'commander';
import { assertKnownPackages } from '../../config/schema.js';
import { ExitCode } from '../../errors.js';
import { formatBytes } from '../../format.js';
import { diffPackages } from '../../workflows/diff.js';
import { withContext, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';

interface DiffFlags extends GlobalOptions {
  channel?: string;
  cache: boolean;
  exitCode?: boolean;
}

export function registerDiff(program: Command, session: Session): void {
  program
    .command('diff [packages...]')
    .description("compare package folders with the channel's current release; publishes nothing")
    .option('--channel <name>', 'channel to compare with (default: config channel)')
    .option('--exit-code', 'exit 1 when any package is new or changed (like git diff --exit-code)')
    .option('--no-cache', 'hash every file again instead of trusting the hash cache (which is rebuilt)')
    .addHelpText('after', '\nExamples:\n  $ update-publish diff\n  $ update-publish diff maps --channel staging --json')
    .action(async (ids: string[], _flags, command: Command) => {
      const flags = command.optsWithGlobals<DiffFlags>();
      await withContext(session, flags, async (context) => {
        const channel = await context.channel(flags.channel);
        // Decided below, once the result is printed.
        const packages = await diffPackages(context, { channel, packageIds: assertKnownPackages(context.config, ids), useCache: flags.cache });
        context.output.result({ channel, packages }, () =>
          packages
            .map((item) =>
              [
                `${item.id} (${item.status}${item.previousVersion ? ` since ${item.previousVersion}` : ''}, ${formatBytes(item.bytes)} new or changed)`,
                ...item.added.map((file) => `  + ${file.path} (${formatBytes(file.size)})`),
                ...item.changed.map((file) => `  ~ ${file.path} (${formatBytes(file.size)})`),
                ...item.removed.map((file) => `  - ${file.path}`),
              ].join('\n'),
            )
            .join('\n'),
        );
        if (flags.exitCode && packages.some((item) => item.status !== 'unchanged')) session.exitCode = ExitCode.failure;
      });
    });
}
