import semver from 'semver';
import { NAME_PATTERN } from '../config/schema.js';
import { UserError } from '../errors.js';
import { isHttpsUrl, type AppRelease, type AppReleasesDocument } from '../protocol/app-releases.js';
import type { ReleaseRules } from '../protocol/types.js';
import { normalizePlatform } from '../protocol/rule-values.js';
import { parseRollout, withRollout } from './rules.js';

/**
 * App-release edits as pure functions of an app-releases document: each
 * returns the new document (and what changed) or throws a UserError. The
 * channel layer stamps the version and re-applies them on every attempt.
 */

const label = (platform: string, version: string) => `${platform}@${version}`;

export function requirePlatform(platform: string): string {
  const name = normalizePlatform(platform);
  if (!NAME_PATTERN.test(name)) throw new UserError(`platform '${platform}' is not a valid name; use lowercase letters, digits, '.', '_' or '-', e.g. ios`);
  return name;
}

function requireSemver(flag: string, version: string): string {
  if (semver.valid(version) !== version) throw new UserError(`${flag} '${version}' is not a semver version; use e.g. 3.2.0`);
  return version;
}

/** `ios@3.2.0`, as rm, rollout and halt name a release. */
export function parseAppReleaseTarget(argument: string): { platform: string; version: string } {
  const at = argument.indexOf('@');
  if (at <= 0 || at === argument.length - 1) throw new UserError(`'${argument}' is not <platform>@<version>; use e.g. ios@3.2.0`);
  return { platform: requirePlatform(argument.slice(0, at)), version: requireSemver('version', argument.slice(at + 1)) };
}

export interface NewAppRelease {
  platform: string;
  version: string;
  url: string;
  minSupported?: string;
  message?: string;
  rules: ReleaseRules;
}

/** Checks what `app-release add` was given, before the store is read. */
export function checkNewAppRelease(release: NewAppRelease): NewAppRelease {
  const platform = requirePlatform(release.platform);
  requireSemver('--version', release.version);
  if (!isHttpsUrl(release.url)) {
    throw new UserError(`--url '${release.url}' is not an https URL; devices open only https store pages, e.g. https://apps.apple.com/app/id123456789`);
  }
  if (release.minSupported !== undefined) {
    requireSemver('--min-supported', release.minSupported);
    if (semver.gt(release.minSupported, release.version)) {
      throw new UserError(`--min-supported ${release.minSupported} is above --version ${release.version}; devices cannot be required to run a version not released`);
    }
  }
  if (release.rules.platforms) throw new UserError("an app release's rules cannot name platforms: the release is for its --platform; use a rule preset without platforms");
  return { ...release, platform };
}

function releasesOf(document: AppReleasesDocument, platform: string): AppRelease[] {
  return document.platforms[platform]?.releases ?? [];
}

function withReleases(document: AppReleasesDocument, platform: string, releases: AppRelease[]): AppReleasesDocument {
  const { [platform]: _old, ...others } = document.platforms;
  return { ...document, platforms: releases.length ? { ...document.platforms, [platform]: { releases } } : others };
}

/** A new binary version, above every other of its platform on the channel. */
export function addAppRelease(document: AppReleasesDocument, release: NewAppRelease, now = new Date()): { document: AppReleasesDocument; release: AppRelease } {
  const { platform, version } = checkNewAppRelease(release);
  const releases = releasesOf(document, platform);
  const highest = releases.map((existing) => existing.version).sort(semver.rcompare)[0];
  if (highest !== undefined && !semver.gt(version, highest)) {
    throw new UserError(`${label(platform, version)} is not above ${label(platform, highest)} on channel '${document.channel}'; a new binary version must be above the platform's others`);
  }
  const added: AppRelease = {
    version,
    url: release.url,
    ...(release.minSupported !== undefined && { minSupported: release.minSupported }),
    ...(release.message !== undefined && { message: release.message }),
    releasedAt: now.toISOString(),
    state: 'active',
    rules: release.rules,
  };
  return { document: withReleases(document, platform, [added, ...releases]), release: added };
}

function requireAppRelease(document: AppReleasesDocument, platform: string, version: string): AppRelease {
  const releases = releasesOf(document, platform);
  const release = releases.find((candidate) => candidate.version === version);
  if (!release) {
    const there = Object.entries(document.platforms).flatMap(([name, { releases: list }]) => list.map((entry) => label(name, entry.version)));
    throw new UserError(`no app release ${label(platform, version)} on channel '${document.channel}'; ${there.length ? `there: ${there.join(', ')}` : "none yet: add one with 'update-publish app-release add'"}`);
  }
  return release;
}

export interface AppReleaseChange {
  document: AppReleasesDocument;
  platform: string;
  version: string;
  before: AppRelease;
  /** null when removed. */
  after: AppRelease | null;
  /** Why nothing changes, when the release already is as asked (the command succeeds: exit 0). */
  unchanged?: string;
}

/** `next` returning the release itself means it already is as asked: `unchanged` says so. */
function changeAppRelease(
  document: AppReleasesDocument,
  platform: string,
  version: string,
  next: (release: AppRelease) => AppRelease | null,
  unchanged?: string,
): AppReleaseChange {
  const before = requireAppRelease(document, platform, version);
  const after = next(before);
  if (after === before) return { document, platform, version, before, after, unchanged };
  const releases = releasesOf(document, platform).flatMap((release) => (release === before ? (after ? [after] : []) : [release]));
  return { document: withReleases(document, platform, releases), platform, version, before, after };
}

export const removeAppRelease = (document: AppReleasesDocument, platform: string, version: string) =>
  changeAppRelease(document, platform, version, () => null);

/** Sets the share of devices told, and serves a halted release again (raising it only adds devices). */
export function setAppReleaseRollout(document: AppReleasesDocument, platform: string, version: string, percent: number | string): AppReleaseChange {
  const rollout = parseRollout(percent);
  return changeAppRelease(document, platform, version, (release) => {
    if (release.rules.rollout === rollout && release.state === 'active') return release;
    return { ...release, state: 'active', rules: { ...release.rules, ...withRollout(rollout) } };
  }, `app release ${label(platform, version)} on channel '${document.channel}' is already at ${rollout}%; nothing to change`);
}

/** Told to nobody from now on; `app-release rollout` serves it again. */
export function haltAppRelease(document: AppReleasesDocument, platform: string, version: string): AppReleaseChange {
  return changeAppRelease(document, platform, version, (release) => {
    if (release.state === 'halted') return release;
    return { ...release, state: 'halted' };
  }, `app release ${label(platform, version)} on channel '${document.channel}' is already halted; 'update-publish app-release rollout ${label(platform, version)} <percent>' serves it again`);
}
