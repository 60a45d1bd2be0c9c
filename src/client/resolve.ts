import semver from 'semver';
import type { ChannelIndex, Release } from './protocol.js';
import { inRollout } from './rollout.js';

export interface DeviceRequest {
  package: string;
  platform?: string;
  appVersion?: string;
  deviceId?: string;
  /** The package version the device has installed, if any. */
  installed?: string;
  now?: Date;
  attributes?: Record<string, string>;
}

export type ResolveReason =
  | 'not-installed'
  | 'newer-release'
  | 'rollback'
  | 'up-to-date'
  | 'installed-newer'
  | 'no-matching-release'
  | 'unknown-package';

export interface Resolution {
  update: boolean;
  version: string | null;
  kind: 'full' | 'delta' | null;
  key: string | null;
  size: number | null;
  sha256: string | null;
  manifestKey: string | null;
  mandatory: boolean;
  reason: ResolveReason;
}

/** Answers "is this device in whitelist X?"; the CLI backs it with whitelist shards. */
export type WhitelistLookup = (listName: string, deviceId: string) => boolean;

const rangeCache = new Map<string, semver.Range>();
function satisfies(version: string, range: string): boolean {
  let compiled = rangeCache.get(range);
  if (!compiled) rangeCache.set(range, (compiled = new semver.Range(range)));
  return compiled.test(version);
}

/** Does this release's rule set serve this device now? */
export function releaseMatches(
  release: Release,
  packageId: string,
  request: DeviceRequest,
  now: Date,
  isWhitelisted?: WhitelistLookup,
): boolean {
  const { rules } = release;
  if (release.state !== 'active') return false;
  if (rules.platforms && !(request.platform && rules.platforms.includes(request.platform))) return false;
  if (rules.appVersion && !(request.appVersion && satisfies(request.appVersion, rules.appVersion))) return false;
  if (rules.startsAt && now < new Date(rules.startsAt)) return false;
  if (rules.endsAt && now >= new Date(rules.endsAt)) return false;
  if (rules.attributes) {
    for (const [name, value] of Object.entries(rules.attributes)) if (request.attributes?.[name] !== value) return false;
  }
  const deviceId = request.deviceId ?? '';
  if (deviceId && isWhitelisted && rules.whitelist?.some((list) => isWhitelisted(list, deviceId))) return true;
  return inRollout(deviceId, packageId, release.version, rules.rollout);
}

const noUpdate = (reason: ResolveReason, version: string | null = null): Resolution => ({
  update: false,
  version,
  kind: null,
  key: null,
  size: null,
  sha256: null,
  manifestKey: null,
  mandatory: false,
  reason,
});

/**
 * What a device gets: the newest release whose rules match it, else the next
 * older matching one; a delta when one exists from the installed version.
 * Pure, so apps and edge functions import it and agree with the CLI.
 */
export function resolveUpdate(index: ChannelIndex, request: DeviceRequest, isWhitelisted?: WhitelistLookup): Resolution {
  const releases = index.packages[request.package]?.releases;
  if (!releases?.length) return noUpdate('unknown-package');
  const now = request.now ?? new Date();
  const target = releases.find((release) => releaseMatches(release, request.package, request, now, isWhitelisted));
  if (!target) return noUpdate('no-matching-release');

  const { installed } = request;
  let reason: ResolveReason = installed ? 'newer-release' : 'not-installed';
  if (installed === target.version) return noUpdate('up-to-date', target.version);
  if (installed && semver.valid(installed) && semver.gt(installed, target.version)) {
    // Only a rollback takes a device backwards; a lowered rollout or a halt does not.
    const installedRelease = releases.find((release) => release.version === installed);
    if (installedRelease?.state !== 'rolled-back') return noUpdate('installed-newer', installed);
    reason = 'rollback';
  }

  const delta = installed ? target.deltas.find((candidate) => candidate.from === installed) : undefined;
  const object = delta ?? target.full;
  return {
    update: true,
    version: target.version,
    kind: delta ? 'delta' : 'full',
    key: object.key,
    size: object.size,
    sha256: object.sha256,
    manifestKey: target.manifest.key,
    mandatory: isMandatory(releases, target, installed),
    reason,
  };
}

/** Mandatory when the target is, or when the device skipped a mandatory release on the way to it. */
function isMandatory(releases: Release[], target: Release, installed: string | undefined): boolean {
  if (target.rules.mandatory) return true;
  if (!installed || !semver.valid(installed)) return false;
  return releases.some(
    (release) =>
      release.rules.mandatory &&
      release.state !== 'rolled-back' &&
      semver.gt(release.version, installed) &&
      semver.lt(release.version, target.version),
  );
}
