import type { AppRelease, AppReleasesDocument } from '../protocol/app-releases.js';
import { ProtocolError } from '../protocol/errors.js';
import { appReleaseSalt } from '../protocol/rollout.js';
import { normalizePlatform } from '../protocol/rule-values.js';
import { assertDeviceVersion, newer, rulesMatch, type DeviceFacts, type WhitelistLookup } from './rule-match.js';

export interface AppDevice extends DeviceFacts {
  platform: string;
  /** The app binary's version on the device (semver). */
  appVersion: string;
}

export type AppUpgradeReason =
  | 'newer-release'
  | 'mandatory'
  | 'below-min-supported'
  | 'up-to-date'
  | 'no-matching-release'
  | 'unknown-platform';

export interface AppUpgrade {
  update: boolean;
  /** The version to upgrade to; null without an update. */
  latest: string | null;
  url: string | null;
  /** The app must not be used before upgrading. */
  force: boolean;
  message: string | null;
  reason: AppUpgradeReason;
}

const noUpgrade = (reason: AppUpgradeReason): AppUpgrade => ({ update: false, latest: null, url: null, force: false, message: null, reason });

/**
 * Whether a device should upgrade its app, and must: the newest active
 * release of its platform above its version whose rules serve it (the same
 * evaluation as package releases). Forced when that release, or one on the
 * way to it meant for the device (targeted, whatever its rollout), is
 * mandatory or names a minimum supported version above the device's.
 */
export function resolveAppUpgrade(document: AppReleasesDocument, device: AppDevice, isWhitelisted?: WhitelistLookup): AppUpgrade {
  const { appVersion } = device;
  // Here the app version is the question itself: required, and exactly SemVer 2.0.0.
  if (!appVersion) throw new ProtocolError('the app version is required to decide an app upgrade; give e.g. 2.0.0', 'input');
  if (!device.platform?.trim()) throw new ProtocolError('the platform is required to decide an app upgrade; give e.g. ios', 'input');
  assertDeviceVersion('app version', appVersion);
  const platform = normalizePlatform(device.platform);
  const releases = document.platforms[platform]?.releases ?? [];
  if (releases.length === 0) return noUpgrade('unknown-platform');
  const now = device.now ?? new Date();
  const served = (release: AppRelease, ignoreRollout = false) =>
    release.state === 'active' && rulesMatch(release.rules, device, now, appReleaseSalt(platform, release.version), isWhitelisted, ignoreRollout);

  // Newest first, as the document keeps them.
  const above = releases.filter((release) => newer(release.version, appVersion));
  if (above.length === 0) return noUpgrade('up-to-date');
  const target = above.find((release) => served(release));
  if (!target) return noUpgrade('no-matching-release');

  const onTheWay = above.filter((release) => !newer(release.version, target.version) && (release === target || served(release, true)));
  const belowMinimum = onTheWay.some((release) => release.minSupported !== undefined && newer(release.minSupported, appVersion));
  const mandatory = onTheWay.some((release) => release.rules.mandatory);
  return {
    update: true,
    latest: target.version,
    url: target.url,
    force: belowMinimum || mandatory,
    message: target.message ?? null,
    reason: belowMinimum ? 'below-min-supported' : mandatory ? 'mandatory' : 'newer-release',
  };
}
