import type { Command } from 'commander';
import type { ManifestFile } from '../../protocol/types.js';
import { diffFiles, hasChanges } from '../../release/diff.js';
import { toManifestFiles } from '../../pack/hash-files.js';
import { readManifest } from '../../channel/catalog.js';
import { readIndex } from '../../channel/index-store.js';
import { assertKnownPackages } from '../../workflows/publish.js';
import { readPackageFiles } from '../../pack/package-files.js';
import { requireChannel, withContext, type GlobalOptions } from '../context.js';
import { formatBytes } from '../../format.js';

interface DiffFlags extends GlobalOptions {
  channel?: string;
}

const entry = ({ path, size }: ManifestFile) => ({ path, size });

interface PackageDiff {
  id: string;
  previousVersion: string | null;
  status: 'new' | 'changed' | 'unchanged';
  added: { path: string; size: number }[];
  changed: { path: string; size: number }[];
  removed: { path: string; size: number }[];
  /** Bytes of added and changed files. */
  bytes: number;
}

export function registerDiff(program: Command): void {
  program
    .command('diff [packages...]')
    .description("compare package folders with the channel's current release; publishes nothing")
    .option('--channel <name>', 'channel to compare with (default: config channel)')
    .addHelpText('after', '\nExamples:\n  $ update-publish diff\n  $ update-publish diff maps --channel staging --json')
    .action(async (ids: string[], _flags, command: Command) => {
      const flags = command.optsWithGlobals<DiffFlags>();
      await withContext(flags, async ({ config, configDir, store, output }) => {
        const channel = requireChannel(flags.channel, config.channel);
        const { index } = await readIndex(store, channel);
        const packages: PackageDiff[] = [];
        for (const id of assertKnownPackages(config, ids)) {
          const files = toManifestFiles(await readPackageFiles(id, config.packages[id], { configDir, store, output }));
          const current = index.packages[id]?.releases.find((release) => release.state !== 'rolled-back');
          const previous = current ? (await readManifest(store, id, current.version)).manifest.files : [];
          const changes = diffFiles(previous, files);
          packages.push({
            id,
            previousVersion: current?.version ?? null,
            status: !current ? 'new' : hasChanges(changes) ? 'changed' : 'unchanged',
            added: changes.added.map(entry),
            changed: changes.changed.map(entry),
            removed: changes.removed.map(entry),
            bytes: [...changes.added, ...changes.changed].reduce((sum, file) => sum + file.size, 0),
          });
        }
        output.result({ channel, packages }, () =>
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
      });
    });
}
