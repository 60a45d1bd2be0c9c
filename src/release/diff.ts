import type { ManifestFile } from '../protocol/types.js';

export interface FileChanges {
  added: ManifestFile[];
  changed: ManifestFile[];
  /** Files of the previous version that the new one no longer has. */
  removed: ManifestFile[];
}

/** What turns the previous file list into the current one, by path and SHA-256. */
export function diffFiles(previous: ManifestFile[], current: ManifestFile[]): FileChanges {
  const previousByPath = new Map(previous.map((file) => [file.path, file]));
  const currentPaths = new Set(current.map((file) => file.path));
  const added: ManifestFile[] = [];
  const changed: ManifestFile[] = [];
  for (const file of current) {
    const before = previousByPath.get(file.path);
    if (!before) added.push(file);
    else if (before.sha256 !== file.sha256 || before.size !== file.size) changed.push(file);
  }
  const removed = previous.filter((file) => !currentPaths.has(file.path));
  return { added, changed, removed };
}

export const countChanges = (changes: FileChanges) => ({
  added: changes.added.length,
  changed: changes.changed.length,
  removed: changes.removed.length,
});

export const hasChanges = (changes: FileChanges) =>
  changes.added.length + changes.changed.length + changes.removed.length > 0;
