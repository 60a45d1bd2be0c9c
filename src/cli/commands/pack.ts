import { resolve } from 'node:path';
import type { Command } from 'commander';
import { assertKnownPackages } from '../../config/schema.js';
import { formatBytes, formatTable } from '../../format.js';
import { parseVersionFlag } from '../../release/version.js';
import { packToFolder } from '../../workflows/pack.js';
import { withContext, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';

interface PackFlags extends GlobalOptions {
  out: string;
  version?: string;
  cache: boolean;
}

export function registerPack(program: Command, session: Session): void {
  program
    .command('pack [packages...]')
    .description('build full packages and manifests into a local folder (laid out like the store); uploads nothing')
    .option('--out <dir>', 'output folder', 'update-publish-out')
    .option('--version <semver>', 'version to stamp (default: the version publish would choose)')
    .option('--no-cache', 'hash every file again instead of trusting the hash cache (which is rebuilt)')
    .addHelpText('after', '\nExamples:\n  $ update-publish pack\n  $ update-publish pack maps --out build/packages --version 2.0.0 --json')
    .action(async (ids: string[], _flags, command: Command) => {
      const flags = command.optsWithGlobals<PackFlags>();
      const requestedVersion = flags.version === undefined ? undefined : parseVersionFlag(flags.version);
      await withContext(session, flags, async (context) => {
        const packed: string[] = [];
        // What an interruption leaves: the packages completed so far; the one being packed leaves nothing.
        session.interruptionMeans = `stopped before any package was complete; nothing was left in ${flags.out}`;
        const { packages, out } = await packToFolder(context, {
          onPacked: (id, version) => {
            packed.push(`${id} ${version}`);
            session.interruptionMeans = `stopped after packing ${packed.join(', ')} into ${flags.out}; the package being packed left nothing`;
          },
          packageIds: assertKnownPackages(context.config, ids),
          outDir: resolve(session.cwd, flags.out),
          outFlag: flags.out,
          version: requestedVersion,
          useCache: flags.cache,
        });
        context.output.result({ out, packages }, () =>
          formatTable(
            ['package', 'version', 'files', 'size', 'zip'],
            packages.map((item) => [item.id, item.version, String(item.files), formatBytes(item.full.size), item.full.path]),
          ),
        );
      });
    });
}
