import type { ChannelIndex, Release } from '../protocol/types.js';
import { releaseSalt } from '../protocol/rollout.js';
import { assertDeviceVersion, newer, rulesMatch, sameVersion, type DeviceFacts, type WhitelistLookup } from './rule-match.js';

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

/**
 * The decision's result (PROTOCOL.md §6.4): every member is always present.
 * Without an update, `version` is what the device keeps (the installed
 * version, null when nothing is installed) and the object members are null.
 */
export interface Resolution {
  update: boolean;
  /** With an update: the target release. Without: the installed version (as the device sent it), or null. */
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

const noUpdate = (reason: ResolveReason, installed: string | undefined): Resolution => ({
  update: false,
  version: installed ?? null,
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
  assertDeviceVersion('app version', request.appVersion);
  assertDeviceVersion('installed version', request.installed);
  const installed = request.installed === '' ? undefined : request.installed;
  const releases = index.packages[request.package]?.releases;
  if (!releases?.length) return noUpdate('unknown-package', installed);
  const now = request.now ?? new Date();
  const matches = (release: Release, ignoreRollout = false) =>
    releaseMatches(release, request.package, request, now, isWhitelisted, ignoreRollout);
  // A device holding a rolled-back release is sent back to an older one even
  // if that one's rollout never reached it: staying on the bad version is worse.
  const sentBack = installed !== undefined && releases.some((release) => sameVersion(release.version, installed) && release.state === 'rolled-back');
  const target =
    releases.find((release) => matches(release)) ??
    (sentBack ? releases.find((release) => newer(installed!, release.version) && matches(release, true)) : undefined);
  if (!target) return noUpdate('no-matching-release', installed);

  let reason: ResolveReason = installed !== undefined ? 'newer-release' : 'not-installed';
  // SemVer precedence: an installed 1.0.1+x is release 1.0.1.
  if (sameVersion(installed, target.version)) return noUpdate('up-to-date', installed);
  if (installed !== undefined && newer(installed, target.version)) {
    // Only a rollback takes a device backwards; a lowered rollout or a halt does not.
    if (!sentBack) return noUpdate('installed-newer', installed);
    reason = 'rollback';
  }

  // The base's every file is checked before use (§10), so a delta from 1.0.0 serves an installed 1.0.0+b.
  const delta = installed !== undefined ? target.deltas.find((candidate) => sameVersion(candidate.from, installed)) : undefined;
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
  if (installed === undefined) return false;
  return releases.some(
    (release) => release.rules.mandatory && newer(release.version, installed) && newer(target.version, release.version) && meantFor(release),
  );
}
