import type { ChannelIndex } from '../protocol/types.js';
import type { ObjectInfo, OpenUpload } from '../store/store.js';
import { parseDuration } from '../duration.js';
import { UserError } from '../errors.js';
import { packagesPrefix } from '../protocol/layout.js';

/** --older-than: "30d", "12h", "90m", "45s", "2w" → milliseconds. */
export function parseAge(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UserError(`--older-than '${text}' is not an age; use e.g. 30d, 12h or 90m`);
  return ms;
}

export interface GcPlan {
  /** Objects of versions no index references, all older than the age. */
  deleteKeys: string[];
  abortUploads: OpenUpload[];
  /** Unreferenced versions kept because something in them is newer than the age (maybe mid-publish). */
  keptRecent: string[];
}

// packages/<id>/<version>/: everything of one version goes (or stays) together.
const VERSION_DIR = new RegExp(`^${packagesPrefix}[^/]+/[^/]+/`);
const versionDirOf = (key: string) => VERSION_DIR.exec(key)?.[0];

/**
 * What garbage collection may remove: whole version folders that no channel
 * index references and that nobody touched within the age, plus multipart
 * uploads older than the age. Pure: decided from listings alone.
 */
export function planGc(
  indexes: ChannelIndex[],
  packageObjects: ObjectInfo[],
  openUploads: OpenUpload[],
  now: Date,
  maxAgeMs: number,
): GcPlan {
  const cutoff = now.getTime() - maxAgeMs;
  const live = new Set<string>();
  for (const index of indexes) {
    for (const { releases, bases } of Object.values(index.packages)) {
      // A base stays while a channel lists it: deltas for devices installed from the app store start there.
      for (const { manifest } of [...releases, ...(bases ?? [])]) live.add(versionDirOf(manifest.key) ?? manifest.key);
    }
  }
  const byVersionDir = new Map<string, ObjectInfo[]>();
  for (const object of packageObjects) {
    const dir = versionDirOf(object.key);
    if (!dir || live.has(dir)) continue;
    byVersionDir.set(dir, [...(byVersionDir.get(dir) ?? []), object]);
  }
  const deleteKeys: string[] = [];
  const keptRecent: string[] = [];
  for (const [dir, objects] of byVersionDir) {
    const old = objects.every((object) => (object.lastModified?.getTime() ?? now.getTime()) < cutoff);
    if (old) deleteKeys.push(...objects.map((object) => object.key));
    else keptRecent.push(dir);
  }
  const abortUploads = openUploads.filter((upload) => (upload.initiated?.getTime() ?? now.getTime()) < cutoff);
  return { deleteKeys: deleteKeys.sort(), abortUploads, keptRecent: keptRecent.sort() };
}
