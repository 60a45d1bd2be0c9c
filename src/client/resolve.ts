import semver from 'semver';
import type { ChannelIndex, Release } from '../protocol/types.js';
import { inRollout } from '../protocol/rollout.js';
import { normalizePlatform } from '../protocol/rule-values.js';

export interface DeviceRequest {
  package: string;
  platform?: string;
  appVersion?: string;
  deviceId?: string;
  /** The package version the device has installed, if any. */
  installed?: string;
  now?: Date;
  attributes?: Record<string, string>;
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
  | 'unknown-package';

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

/** Answers "is this device in whitelist X?"; the CLI backs it with whitelist shards. */
export type WhitelistLookup = (listName: string, deviceId: string) => boolean;

/**
 * Parsing dominates resolving (a SemVer, a Date per release per device), so
 * parsed forms are cached. Device-sent strings are unbounded in variety: a
 * cache is dropped whole once it holds CACHE_LIMIT of them.
 */
const CACHE_LIMIT = 10_000;
function cached<T>(cache: Map<string, T>, key: string, make: (key: string) => T): T {
  let value = cache.get(key);
  if (value === undefined && !cache.has(key)) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, (value = make(key)));
  }
  return value as T;
}

const ranges = new Map<string, semver.Range>();
const versions = new Map<string, semver.SemVer | null>();
const instants = new Map<string, number>();
const parseVersion = (version: string) => cached(versions, version, (text) => semver.parse(text));
/** Milliseconds, NaN when unparseable, exactly as `new Date(text)` compares. */
const instantOf = (text: string) => cached(instants, text, Date.parse);

function satisfies(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  return parsed !== null && cached(ranges, range, (text) => new semver.Range(text)).test(parsed);
}

/** semver.gt on cached parses; an invalid version still throws as semver.gt does. */
function newer(version: string, than: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(than);
  return a && b ? a.compare(b) > 0 : semver.gt(version, than);
}

/** Does this release's rule set serve this device now? */
export function releaseMatches(
  release: Release,
  packageId: string,
  request: DeviceRequest,
  now: Date,
  isWhitelisted?: WhitelistLookup,
  ignoreRollout = false,
): boolean {
  const { rules } = release;
  if (release.state !== 'active') return false;
  if (rules.platforms && !platformListed(rules.platforms, request.platform)) return false;
  if (rules.appVersion && !(request.appVersion && satisfies(request.appVersion, rules.appVersion))) return false;
  if (rules.startsAt && now.getTime() < instantOf(rules.startsAt)) return false;
  if (rules.endsAt && now.getTime() >= instantOf(rules.endsAt)) return false;
  if (rules.attributes) {
    for (const name in rules.attributes) if (request.attributes?.[name] !== rules.attributes[name]) return false;
  }
  if (ignoreRollout) return true;
  const deviceId = request.deviceId ?? '';
  if (deviceId && isWhitelisted && rules.whitelist?.some((list) => isWhitelisted(list, deviceId))) return true;
  return inRollout(deviceId, packageId, release.version, rules);
}

/** Case-insensitive (normalizePlatform): `iOS` is `ios`, whoever wrote either. */
function platformListed(platforms: readonly string[], platform: string | undefined): boolean {
  if (!platform) return false;
  const wanted = normalizePlatform(platform);
  return platforms.some((listed) => listed === wanted || normalizePlatform(listed) === wanted);
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
