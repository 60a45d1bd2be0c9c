import { windowPlace } from '../protocol/serving-window.js';
import semver from 'semver';
import { inRolloutOf } from '../protocol/rollout.js';
import { ProtocolError } from '../protocol/errors.js';
import { normalizePlatform } from '../protocol/rule-values.js';
import type { TargetingRules } from '../protocol/types.js';
import { parseProtocolVersion } from '../protocol/version.js';

/**
 * THE rule evaluation: package releases, switch variants and app releases all
 * decide "is this device served?" here, so a rule means the same everywhere.
 */

/** What a device tells about itself. */
export interface DeviceFacts {
  platform?: string;
  appVersion?: string;
  deviceId?: string;
  attributes?: Record<string, string>;
  /** Default: the current time. */
  now?: Date;
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
/** Exactly SemVer 2.0.0 (PROTOCOL.md §1.1): `v1.2.0` or ` 1.2.0` is no version, so it satisfies no range. */
export const parseVersion = (version: string) => cached(versions, version, parseProtocolVersion);

function satisfies(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  return parsed !== null && cached(ranges, range, (text) => new semver.Range(text)).test(parsed);
}

/** Greater by SemVer precedence; false when either is not a version. */
export function newer(version: string, than: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(than);
  return a !== null && b !== null && a.compare(b) > 0;
}

/** Equal by SemVer precedence (build metadata ignored: `1.0.1+x` is 1.0.1); false when either is not a version. */
export function sameVersion(version: string | undefined, than: string | undefined): boolean {
  if (version === undefined || than === undefined) return false;
  const a = parseVersion(version);
  const b = parseVersion(than);
  return a !== null && b !== null && a.compare(b) === 0;
}

/**
 * A version the device sends (its app version, its installed version) must be
 * exactly SemVer 2.0.0 (PROTOCOL.md §1.1); anything else is the caller's
 * mistake, refused as an input failure rather than silently matching nothing.
 * Absent or empty: not sent.
 */
export function assertDeviceVersion(what: string, version: string | undefined): void {
  if (version === undefined || version === '' || parseVersion(version)) return;
  throw new ProtocolError(`${what} ${JSON.stringify(version)} is not a SemVer 2.0.0 version (no leading 'v', no spaces); give e.g. 2.0.0`, 'input');
}

/** Platform, app-version range, time window and attributes: whom the rules are meant for, whatever the rollout. */
export function targets(rules: TargetingRules, device: DeviceFacts, now: Date): boolean {
  if (rules.platforms && !platformListed(rules.platforms, device.platform)) return false;
  if (rules.appVersion && !(device.appVersion && satisfies(device.appVersion, rules.appVersion))) return false;
  if (windowPlace(rules, now) !== 'within') return false;
  if (rules.attributes) {
    for (const name in rules.attributes) if (device.attributes?.[name] !== rules.attributes[name]) return false;
  }
  return true;
}

/**
 * Do the rules serve this device now? Targeted, and inside the rollout (the
 * bucket of the device under `rolloutSalt`) or in a listed whitelist.
 */
export function rulesMatch(
  rules: TargetingRules,
  device: DeviceFacts,
  now: Date,
  rolloutSalt: string,
  isWhitelisted?: WhitelistLookup,
  ignoreRollout = false,
): boolean {
  if (!targets(rules, device, now)) return false;
  if (ignoreRollout) return true;
  const deviceId = device.deviceId ?? '';
  if (deviceId && isWhitelisted && rules.whitelist?.some((list) => isWhitelisted(list, deviceId))) return true;
  return inRolloutOf(rolloutSalt, deviceId, rules);
}

/** Case-insensitive (normalizePlatform): `iOS` is `ios`, whoever wrote either. */
function platformListed(platforms: readonly string[], platform: string | undefined): boolean {
  if (!platform) return false;
  const wanted = normalizePlatform(platform);
  return platforms.some((listed) => listed === wanted || normalizePlatform(listed) === wanted);
}
