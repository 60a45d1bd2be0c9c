import type { Manifest, ManifestFile } from '../protocol/types.js';
import { diffFiles } from './diff.js';

export interface DeltaPlan {
  fromVersion: string;
  /** The base version's manifest: what patches are made against. */
  base: Manifest;
  /** Added and changed files: what the delta package holds. */
  files: ManifestFile[];
  removed: string[];
}

/**
 * One delta per base version a device may hold. A delta that would carry every
 * file saves nothing over the full package, so it is not built.
 */
export function planDeltas(currentFiles: ManifestFile[], baseManifests: Manifest[]): DeltaPlan[] {
  const plans: DeltaPlan[] = [];
  for (const base of baseManifests) {
    const changes = diffFiles(base.files, currentFiles);
    const files = [...changes.added, ...changes.changed].sort((a, b) => (a.path < b.path ? -1 : 1));
    if (files.length === currentFiles.length) continue;
    plans.push({ fromVersion: base.version, base, files, removed: changes.removed.map((file) => file.path) });
  }
  return plans;
}
