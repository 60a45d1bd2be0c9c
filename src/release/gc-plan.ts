import semver from 'semver';
import type { ChannelIndex, Release } from '../protocol/types.js';
import type { ObjectInfo, OpenUpload } from '../store/store.js';
import { parseDuration } from '../duration.js';
import { UserError } from '../errors.js';
import { packagesPrefix } from '../protocol/layout.js';
import { deltaBaseVersions } from './decide.js';

/** --older-than: "30d", "12h", "90m", "45s", "2w" → milliseconds. */
export function parseAge(text: string, flag = '--older-than'): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UserError(`${flag} '${text}' is not an age; use e.g. 30d, 12h or 90m`);
  return ms;
}

/** How many archived releases, and how recent, gc keeps per package and channel; nothing set keeps every one. */
export interface Retention {
  keepArchived?: number;
  /** Archived releases released within this many milliseconds are kept. */
  olderThanMs?: number;
}

/** One channel as gc sees it: what its index serves and what its archive keeps, per package. */
export interface ChannelHoldings {
  index: ChannelIndex;
  archived: Record<string, Release[]>;
}

export interface KeptVersion {
  package: string;
  version: string;
  /** Why it stays, e.g. "served on production", "delta base on production", "archived on staging (newest 3)". */
  reasons: string[];
}

export interface GcPlan {
  /** Objects of versions nothing keeps, all older than the age. */
  deleteKeys: string[];
  abortUploads: OpenUpload[];
  /** Unreferenced versions kept because something in them is newer than the age (maybe mid-publish). */
  keptRecent: string[];
  /** Every version still referenced, with the reasons it stays. */
  kept: KeptVersion[];
  /** Archived releases beyond the retention: dropped from their archive, so their versions can go. */
  pruneArchived: { channel: string; package: string; versions: string[] }[];
}

// packages/<id>/<version>/: everything of one version goes (or stays) together.
const VERSION_DIR = new RegExp(`^${packagesPrefix}[^/]+/[^/]+/`);
const versionDirOf = (key: string) => VERSION_DIR.exec(key)?.[0];

/**
 * What garbage collection may remove, decided from listings alone. It keeps every version a
 * channel serves (releases and bases), every version a new release there would build a delta
 * from (the newest `deltaCount` a device may hold, archived ones included), and archived
 * releases within the retention; whole version folders that nothing keeps and nobody touched
 * within the age go, as do multipart uploads older than the age. Whitelists are never removed.
 */
export function planGc(
  channels: ChannelHoldings[],
  packageObjects: ObjectInfo[],
  openUploads: OpenUpload[],
  now: Date,
  maxAgeMs: number,
  options: { retention?: Retention; deltaCount: number },
): GcPlan {
  const cutoff = now.getTime() - maxAgeMs;
  const reasons = new Map<string, { package: string; version: string; reasons: string[] }>();
  const keep = (release: { manifest: { key: string } }, id: string, version: string, reason: string) => {
    const dir = versionDirOf(release.manifest.key) ?? release.manifest.key;
    const entry = reasons.get(dir) ?? { package: id, version, reasons: [] };
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    reasons.set(dir, entry);
  };
  const pruneArchived: GcPlan['pruneArchived'] = [];
  const { retention = {}, deltaCount } = options;
  const retained = retention.keepArchived !== undefined || retention.olderThanMs !== undefined;

  for (const { index, archived } of channels) {
    const channel = index.channel;
    const ids = new Set([...Object.keys(index.packages), ...Object.keys(archived)]);
    for (const id of ids) {
      const served = index.packages[id]?.releases ?? [];
      const servedVersions = new Set(served.map((release) => release.version));
      // A base stays while a channel lists it: deltas for devices installed from the app store start there.
      for (const release of served) keep(release, id, release.version, `served on ${channel}`);
      for (const base of index.packages[id]?.bases ?? []) keep(base, id, base.version, `base on ${channel}`);
      const archive = (archived[id] ?? []).filter((release) => !servedVersions.has(release.version)).sort((a, b) => semver.rcompare(a.version, b.version));
      const all = [...served, ...archive].sort((a, b) => semver.rcompare(a.version, b.version));
      const deltaBases = new Set(deltaBaseVersions(all, '', deltaCount));
      const pruned: string[] = [];
      archive.forEach((release, position) => {
        if (deltaBases.has(release.version)) return keep(release, id, release.version, `delta base on ${channel} (a device may hold it)`);
        if (!retained) return keep(release, id, release.version, `archived on ${channel} (no retention set)`);
        if (retention.keepArchived !== undefined && position < retention.keepArchived) {
          return keep(release, id, release.version, `archived on ${channel} (newest ${retention.keepArchived})`);
        }
        if (retention.olderThanMs !== undefined && new Date(release.releasedAt).getTime() > now.getTime() - retention.olderThanMs) {
          return keep(release, id, release.version, `archived on ${channel} (released within the retention age)`);
        }
        pruned.push(release.version);
      });
      if (pruned.length) pruneArchived.push({ channel, package: id, versions: pruned });
    }
  }

  const byVersionDir = new Map<string, ObjectInfo[]>();
  for (const object of packageObjects) {
    const dir = versionDirOf(object.key);
    if (!dir || reasons.has(dir)) continue;
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
  const kept = [...reasons.values()].sort((a, b) => (a.package === b.package ? semver.rcompare(a.version, b.version) : a.package < b.package ? -1 : 1));
  return { deleteKeys: deleteKeys.sort(), abortUploads, keptRecent: keptRecent.sort(), kept, pruneArchived };
}
