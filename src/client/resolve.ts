import type { ChannelIndex, Release } from '../protocol/types.js';
import { releaseSalt } from '../protocol/rollout.js';
import { newer, parseVersion, rulesMatch, type DeviceFacts, type WhitelistLookup } from './rule-match.js';

export type { WhitelistLookup } from './rule-match.js';

export interface DeviceRequest extends DeviceFacts {
  package: string;
  /** The package version the device has installed, if any. */
  installed?: string;
  /** The device can apply binary patches (zstd --patch-from); without it, it never receives one. Default false. */
  patches?: boolean;
}

export type ResolveReason =
  | 'not-installed'
  | 'newer-release'
  | 'rollback'
  | 'up-to-date'
  | 'installed-newer'
  | 'no-matching-release'
  | 'unknown-package'
  /** fetchUpdate only: the release was rolled back on this device (crash-loop guard) and is not installed again. */
  | 'failed-on-device';

export interface Resolution {
  update: boolean;
  version: string | null;
  kind: 'full' | 'delta' | null;
  /** The delta holds binary patches (only offered to a device that said it can apply them). */
  patched: boolean;
  key: string | null;
  size: number | null;
  sha256: string | null;
  manifestKey: string | null;
  mandatory: boolean;
  reason: ResolveReason;
}

/** Does this release's rule set serve this device now? */
export function releaseMatches(
  release: Release,
  packageId: string,
  request: DeviceFacts,
  now: Date,
  isWhitelisted?: WhitelistLookup,
  ignoreRollout = false,
): boolean {
  return release.state === 'active' && rulesMatch(release.rules, request, now, releaseSalt(packageId, release.version), isWhitelisted, ignoreRollout);
}

const noUpdate = (reason: ResolveReason, version: string | null = null): Resolution => ({
  update: false,
  version,
  kind: null,
  patched: false,
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
  const { installed } = request;
  const matches = (release: Release, ignoreRollout = false) =>
    releaseMatches(release, request.package, request, now, isWhitelisted, ignoreRollout);
  // A device holding a rolled-back release is sent back to an older one even
  // if that one's rollout never reached it: staying on the bad version is worse.
  const sentBack = installed !== undefined && releases.some((release) => release.version === installed && release.state === 'rolled-back');
  const target =
    releases.find((release) => matches(release)) ??
    (sentBack ? releases.find((release) => parseVersion(release.version) && newer(installed, release.version) && matches(release, true)) : undefined);
  if (!target) return noUpdate('no-matching-release');

  let reason: ResolveReason = installed ? 'newer-release' : 'not-installed';
  if (installed === target.version) return noUpdate('up-to-date', target.version);
  if (installed && parseVersion(installed) && newer(installed, target.version)) {
    // Only a rollback takes a device backwards; a lowered rollout or a halt does not.
    if (!sentBack) return noUpdate('installed-newer', installed);
    reason = 'rollback';
  }

  const delta = installed ? target.deltas.find((candidate) => candidate.from === installed) : undefined;
  const patched = request.patches === true ? delta?.patched : undefined;
  const object = patched ?? delta ?? target.full;
  return {
    update: true,
    version: target.version,
    kind: delta ? 'delta' : 'full',
    patched: patched !== undefined,
    key: object.key,
    size: object.size,
    sha256: object.sha256,
    manifestKey: target.manifest.key,
    mandatory: isMandatory(releases, target, installed, (release) => matches(release, true)),
    reason,
  };
}

/**
 * Mandatory when the target is, or when the device skipped a mandatory release
 * on the way to it that was meant for it: served (not halted or rolled back)
 * and targeting this device, whatever its rollout.
 */
function isMandatory(releases: Release[], target: Release, installed: string | undefined, meantFor: (release: Release) => boolean): boolean {
  if (target.rules.mandatory) return true;
  if (!installed || !parseVersion(installed)) return false;
  return releases.some(
    (release) => release.rules.mandatory && newer(release.version, installed) && newer(target.version, release.version) && meantFor(release),
  );
}
