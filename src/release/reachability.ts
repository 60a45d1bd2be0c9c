import { windowOpened } from '../protocol/serving-window.js';
import semver from 'semver';
import { upsertRelease } from '../protocol/channel-index.js';
import type { ChannelIndex, Release, ReleaseRules } from '../protocol/types.js';

/**
 * Releases no device can be served any more stay out of the index devices
 * download, so it stays small as history grows. A release is unreachable
 * when a newer one that serves for good (active, 100%, started, no end date)
 * targets every device it targets: resolve meets the newer one first.
 */

const servesForGood = (release: Release, now: Date) => {
  const { rules } = release;
  return release.state === 'active' && rules.rollout === 100 && !rules.endsAt && windowOpened(rules, now);
};

/** Which devices a release is for, rollout aside, as a comparable key. */
const targetingOf = ({ platforms, appVersion, attributes }: ReleaseRules) => JSON.stringify([platforms, appVersion, attributes]);

const untargeted = (rules: ReleaseRules) => !rules.platforms && !rules.appVersion && !rules.attributes;

/** Does every device that `older`'s targeting lets in also pass `newer`'s? (Rollout, whitelists and dates aside.) */
function targetsAllOf(newer: ReleaseRules, older: ReleaseRules): boolean {
  if (newer.platforms && !older.platforms?.every((platform) => newer.platforms!.includes(platform))) return false;
  if (newer.appVersion && !(older.appVersion && semver.subset(older.appVersion, newer.appVersion))) return false;
  if (newer.attributes && !Object.entries(newer.attributes).every(([name, value]) => older.attributes?.[name] === value)) return false;
  return true;
}

/**
 * Splits each package's releases (newest first) into what stays in the index
 * and what is unreachable. One kind of unreachable release stays: the newest
 * served mandatory one of each targeting, so a device that skipped it still
 * hears that the update it gets is mandatory.
 */
export function splitUnreachable(index: ChannelIndex, now: Date): { index: ChannelIndex; unreachable: Map<string, Release[]> } {
  const unreachable = new Map<string, Release[]>();
  const packages: ChannelIndex['packages'] = {};
  for (const [id, { releases }] of Object.entries(index.packages)) {
    // One representative per distinct targeting: histories repeat the same rules.
    const covering = new Map<string, ReleaseRules>();
    const reachable = releases.map((release) => {
      // A device on a rolled-back release is sent back to an older one its targeting
      // allows, found through the rolled-back release: only a release for everyone hides it.
      const covered = [...covering.values()].some(
        (rules) => targetsAllOf(rules, release.rules) && (release.state !== 'rolled-back' || untargeted(rules)),
      );
      if (!covered && servesForGood(release, now)) covering.set(targetingOf(release.rules), release.rules);
      return !covered;
    });
    // A device that skipped a mandatory release it was meant for must still hear of it
    // (resolve counts served ones targeting the device): the newest of each targeting stays.
    const keep = reachable.slice();
    const mandatoryTargetings = new Set<string>();
    releases.forEach((release, position) => {
      if (reachable[position] || !release.rules.mandatory || release.state !== 'active') return;
      if (mandatoryTargetings.has(targetingOf(release.rules))) return;
      mandatoryTargetings.add(targetingOf(release.rules));
      keep[position] = true;
    });
    packages[id] = { ...index.packages[id], releases: releases.filter((_, position) => keep[position]) };
    const dropped = releases.filter((_, position) => !keep[position]);
    if (dropped.length) unreachable.set(id, dropped);
  }
  return { index: { ...index, packages }, unreachable };
}

/** The index with a package's archived releases back in it, for operations that may reach them (rollback --to). */
export function withArchivedReleases(index: ChannelIndex, id: string, archived: Release[]): ChannelIndex {
  const present = new Set((index.packages[id]?.releases ?? []).map((release) => release.version));
  return archived
    .filter((release) => !present.has(release.version))
    .reduce((next, release) => upsertRelease(next, id, release), index);
}
