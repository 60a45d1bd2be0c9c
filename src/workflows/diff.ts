import { readManifest } from '../channel/catalog.js';
import { readIndex } from '../channel/index-store.js';
import { toManifestFiles } from '../pack/hash-files.js';
import { readPackageFiles } from '../pack/package-files.js';
import { currentRelease } from '../protocol/channel-index.js';
import type { ManifestFile } from '../protocol/types.js';
import { diffFiles, hasChanges } from '../release/diff.js';
import type { WorkflowContext } from './context.js';

export interface PackageDiff {
  id: string;
  previousVersion: string | null;
  status: 'new' | 'changed' | 'unchanged';
  added: { path: string; size: number }[];
  changed: { path: string; size: number }[];
  removed: { path: string; size: number }[];
  /** Bytes of added and changed files. */
  bytes: number;
}

const entry = ({ path, size }: ManifestFile) => ({ path, size });

/** The package folders against the channel's current release of each; nothing is written. */
export async function diffPackages(context: WorkflowContext, request: { channel: string; packageIds: string[]; useCache?: boolean }): Promise<PackageDiff[]> {
  const { config, store } = context;
  const { index } = await readIndex(store, request.channel);
  const packages: PackageDiff[] = [];
  for (const id of request.packageIds) {
    const files = toManifestFiles(await readPackageFiles(id, config.packages[id], context, { useCache: request.useCache }));
    const current = currentRelease(index.packages[id]?.releases ?? []);
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
  return packages;
}
