/**
 * `base add <package> --dir <folder> --version <semver> [--channel C]`: records
 * the content an app ships inside its binary as a version devices may hold, so
 * the first update after a store install is a delta (see workflows/base.ts).
 *
 * JSON: { channel, package, version, files, packed, full: { key, size, sha256 }, manifest: { key }, dryRun }
 */
import type { Command } from 'commander';
import semver from 'semver';
import { assertKnownPackages } from '../../config/schema.js';
import { UserError } from '../../errors.js';
import { formatBytes } from '../../format.js';
import { addBase } from '../../workflows/base.js';
import { withContext, type GlobalOptions } from '../context.js';
import { dryRunNote } from '../render.js';
import type { Session } from '../session.js';

interface BaseAddFlags extends GlobalOptions {
  dir: string;
  version: string;
  channel?: string;
}

export function registerBase(program: Command, session: Session): void {
  const base = program.command('base').description('content apps ship in their binary: versions devices may hold, delta bases never served');

  base
    .command('add <package>')
    .description('record the content an app ships in its binary as a version devices may hold (later publishes build deltas from it)')
    .requiredOption('--dir <folder>', 'folder holding the content as the app ships it')
    .requiredOption('--version <semver>', 'the package version the app reports for that content')
    .option('--channel <name>', 'channel whose devices ship it (default: config channel)')
    .option('--dry-run', 'pack and check, write nothing')
    .option('-y, --yes', 'do not ask')
    .addHelpText('after', '\nExamples:\n  $ update-publish base add maps --dir app/src/main/assets/maps --version 1.0.0\n  $ update-publish base add maps --dir ios/Bundle/maps --version 2.0.0 --channel production --json')
    .action(async (packageId: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<BaseAddFlags>();
      if (semver.valid(flags.version) !== flags.version) throw new UserError(`--version '${flags.version}' is not a semver version; use e.g. 1.0.0`);
      await withContext(session, flags, async (context) => {
        assertKnownPackages(context.config, [packageId]);
        const channel = await context.channel(flags.channel);
        const result = await addBase(context, { packageId, dir: flags.dir, version: flags.version, channel });
        context.output.result(result, () =>
          `${dryRunNote(result.dryRun)}${packageId} ${result.version} is a base on '${channel}' (${result.files} files, full ${formatBytes(result.full.size)}${result.packed ? '' : ', already stored'}): devices reporting it get deltas`,
        );
      });
    });
}
