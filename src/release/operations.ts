import semver from 'semver';
import type { ChannelIndex, Release, ReleaseRules } from '../protocol/types.js';
import { UserError } from '../errors.js';
import { currentRelease, findRelease, updateRelease, upsertRelease } from '../protocol/channel-index.js';
import { assertWindowOpens, orderedRules, parseRollout, withRollout } from './rules.js';

/**
 * Release operations as pure functions of a channel index: each returns the
 * new index (and what changed) or throws a UserError, never touching the
 * store. updateIndex re-applies them to the fresh index on every attempt.
 */

/** One release changed in place (rollout, halt, resume, edit). */
export interface ReleaseChange {
  index: ChannelIndex;
  version: string;
  before: Release;
  after: Release;
  /** Set when the release already is as asked: why nothing changes (nothing is written, the command succeeds). */
  unchanged?: string;
}

export interface RollbackChange {
  index: ChannelIndex;
  /** The release served before (null when every release was rolled back). */
  from: string | null;
  /** The release served now. */
  to: string;
  /** Versions this rollback marked 'rolled-back', newest first. */
  rolledBack: string[];
  /** The release now served, as it is in the new index. */
  target: Release;
}

export interface PromoteChange {
  index: ChannelIndex;
  release: Release;
  /** The target channel's newest release that is not rolled back, before the promotion. */
  previousVersion: string | null;
}

function releasesOf(index: ChannelIndex, id: string): Release[] {
  const releases = index.packages[id]?.releases;
  if (!releases?.length) {
    const known = Object.keys(index.packages);
    throw new UserError(
      `package '${id}' has no releases on channel '${index.channel}'; ${known.length ? `released there: ${known.join(', ')}` : 'publish it there first'}`,
    );
  }
  return releases;
}

function requireVersion(index: ChannelIndex, id: string, version: string): Release {
  if (!semver.valid(version)) throw new UserError(`version '${version}' is not semver; use e.g. 1.2.0`);
  const releases = releasesOf(index, id);
  const release = releases.find((candidate) => candidate.version === version);
  if (!release) {
    throw new UserError(
      `package '${id}' has no version ${version} on channel '${index.channel}'; released there: ${releases.map((r) => r.version).join(', ')}`,
    );
  }
  return release;
}

/** The release rollout, halt and resume act on (currentRelease); refused when every release is rolled back. */
export function requireCurrentRelease(index: ChannelIndex, id: string): Release {
  const current = currentRelease(releasesOf(index, id));
  if (!current) {
    throw new UserError(
      `package '${id}' on channel '${index.channel}': every release is rolled back; run 'update-publish rollback ${id} --to <version> --channel ${index.channel}' to serve one again`,
    );
  }
  return current;
}

/**
 * The release an operation acts on: the current one, or `version` when named,
 * which must then be the current one (the operator names the release they
 * mean; a publish that landed meanwhile is not changed in its place).
 */
function requireServed(index: ChannelIndex, id: string, version: string | undefined): Release {
  const current = requireCurrentRelease(index, id);
  if (version !== undefined && current.version !== version) {
    requireVersion(index, id, version);
    throw new UserError(
      `package '${id}' on channel '${index.channel}' serves ${current.version}, not ${version}; check 'update-publish status --channel ${index.channel}', then name the release served (${id}@${current.version})`,
    );
  }
  return current;
}

/** A change to one release; `next` returns a reason instead when the release already is as asked. */
export function changeRelease(index: ChannelIndex, id: string, before: Release, next: (release: Release) => Release | { unchanged: string }): ReleaseChange {
  const after = next(before);
  if ('unchanged' in after) return { index, version: before.version, before, after: before, unchanged: after.unchanged };
  return { index: updateRelease(index, id, before.version, () => after), version: before.version, before, after };
}

const changeCurrent = (index: ChannelIndex, id: string, version: string | undefined, next: (release: Release) => Release | { unchanged: string }) =>
  changeRelease(index, id, requireServed(index, id, version), next);

/** Raising the share only adds devices: buckets are fixed per device and release. */
export function setRollout(index: ChannelIndex, id: string, percent: number | string, version?: string): ReleaseChange {
  const rollout = parseRollout(percent);
  return changeCurrent(index, id, version, (release) =>
    // A no-op must not rewrite the index, add history or fire every hook.
    release.rules.rollout === rollout
      ? { unchanged: `package '${id}' ${release.version} on channel '${index.channel}' is already at ${rollout}%; nothing to change` }
      : { ...release, rules: { ...release.rules, ...withRollout(rollout) } },
  );
}

/** Stops serving at once; the rollout is kept so resume serves the same devices. */
export function halt(index: ChannelIndex, id: string, version?: string): ReleaseChange {
  return changeCurrent(index, id, version, (release) =>
    release.state === 'halted'
      ? { unchanged: `package '${id}' ${release.version} on channel '${index.channel}' is already halted; run 'update-publish resume ${id}' to serve it again; nothing to change` }
      : { ...release, state: 'halted' },
  );
}

export function resume(index: ChannelIndex, id: string, version?: string): ReleaseChange {
  return changeCurrent(index, id, version, (release) =>
    release.state !== 'halted'
      ? { unchanged: `package '${id}' ${release.version} on channel '${index.channel}' is not halted; nothing to change` }
      : { ...release, state: 'active' },
  );
}

/** The same value, whatever the order of object keys (rules written by different versions). */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1))) : item,
  );

/**
 * Changes a release's targeting (rollout apart, which `rollout` changes) and
 * its notes: the fields given replace the release's, the others stay.
 */
export function editRelease(index: ChannelIndex, id: string, version: string, patch: Partial<Omit<ReleaseRules, 'rollout'>>, message?: string): ReleaseChange {
  return changeRelease(index, id, requireVersion(index, id, version), (release) => {
    const rules = orderedRules({ ...release.rules, ...patch });
    assertWindowOpens(rules);
    const after: Release = { ...release, rules, ...(message !== undefined && { message }) };
    if (canonical(after) === canonical(release)) {
      return { unchanged: `package '${id}' ${version} on channel '${index.channel}' already has these rules${message !== undefined ? ' and notes' : ''}; nothing to change` };
    }
    return after;
  });
}

/**
 * Serves `to` (default: the newest active release below the current one)
 * again: every release above it is marked rolled-back, so devices holding one
 * are sent back; `to` itself becomes active if it was halted or rolled back.
 */
export function rollback(index: ChannelIndex, id: string, to?: string): RollbackChange {
  const releases = releasesOf(index, id);
  const current = currentRelease(releases);
  let target: Release | undefined;
  if (to !== undefined) {
    target = requireVersion(index, id, to);
  } else {
    target = current && releases.find((release) => release.state === 'active' && semver.lt(release.version, current.version));
    if (!target) {
      throw new UserError(
        `package '${id}' on channel '${index.channel}' has no active release before ${current?.version ?? 'its releases'} to roll back to; use 'update-publish halt ${id}' to stop serving it`,
      );
    }
  }
  const targetVersion = target.version;
  const rolledBack = releases
    .filter((release) => release.state !== 'rolled-back' && semver.gt(release.version, targetVersion))
    .map((release) => release.version);
  if (rolledBack.length === 0 && target.state === 'active') {
    throw new UserError(`package '${id}' ${targetVersion} is already the newest release served on channel '${index.channel}'; nothing to roll back`);
  }
  const next = releases.map((release): Release => {
    if (rolledBack.includes(release.version)) return { ...release, state: 'rolled-back' };
    if (release.version === targetVersion) return { ...release, state: 'active' };
    return release;
  });
  return {
    index: { ...index, packages: { ...index.packages, [id]: { ...index.packages[id], releases: next } } },
    from: current?.version ?? null,
    to: targetVersion,
    rolledBack,
    target: next.find((release) => release.version === targetVersion)!,
  };
}

/** The promoted release with more deltas (built for the target channel's versions), in the target index too. */
export function withDeltas(change: PromoteChange, id: string, deltas: Release['deltas']): PromoteChange {
  if (deltas.length === 0) return change;
  const release = { ...change.release, deltas: [...change.release.deltas, ...deltas] };
  return { ...change, index: upsertRelease(change.index, id, release), release };
}

/**
 * The same stored bytes as a new release on another channel: manifest, full
 * and delta references are copied, the rules are the ones given (not the
 * source's), nothing is uploaded. Without a version, the source's newest active release.
 */
export function promote(
  source: ChannelIndex,
  target: ChannelIndex,
  id: string,
  version: string | undefined,
  rules: ReleaseRules,
  now = new Date(),
  message?: string,
): PromoteChange {
  if (source.channel === target.channel) {
    throw new UserError(`--from and --to are both '${source.channel}'; promote copies a release to another channel`);
  }
  let release: Release | undefined;
  if (version !== undefined) {
    release = requireVersion(source, id, version);
  } else {
    release = releasesOf(source, id).find((candidate) => candidate.state === 'active');
    if (!release) {
      throw new UserError(`package '${id}' has no active release on channel '${source.channel}'; name one with ${id}@<version>`);
    }
  }
  const existing = findRelease(target, id, release.version);
  if (existing) {
    throw new UserError(
      `package '${id}' ${release.version} is already on channel '${target.channel}' (${existing.state}); change it there with rollout, resume or rollback`,
    );
  }
  const previousVersion = currentRelease(target.packages[id]?.releases ?? [])?.version ?? null;
  // The release keeps its commit (where its content came from); new notes replace the source's.
  const promoted: Release = { ...release, releasedAt: now.toISOString(), rules, state: 'active', ...(message !== undefined && { message }) };
  return { index: upsertRelease(target, id, promoted), release: promoted, previousVersion };
}
