import { describe, expect, it } from 'vitest';
import { resolveAppUpgrade, type AppDevice } from '../../src/client/app-upgrade.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { emptyAppReleases, type AppReleasesDocument } from '../../src/protocol/app-releases.js';
import {
  addAppRelease,
  haltAppRelease,
  parseAppReleaseTarget,
  removeAppRelease,
  setAppReleaseRollout,
  type NewAppRelease,
} from '../../src/release/app-release-operations.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const URL = 'https://apps.apple.com/app/id123456789';
const ios = (version: string, overrides: Partial<NewAppRelease> = {}): NewAppRelease => ({
  platform: 'ios',
  version,
  url: URL,
  rules: { rollout: 100, mandatory: false },
  ...overrides,
});
const build = (...releases: NewAppRelease[]): AppReleasesDocument =>
  releases.reduce((document, release) => addAppRelease(document, release, NOW).document, emptyAppReleases('production'));
const device = (appVersion: string, overrides: Partial<AppDevice> = {}): AppDevice => ({ platform: 'ios', appVersion, deviceId: 'device-1', now: NOW, ...overrides });

describe('resolveAppUpgrade', () => {
  it('offers the newest release above the device that serves it, with its url and message', () => {
    const document = build(ios('3.1.0'), ios('3.2.0', { message: 'Faster maps' }));
    expect(resolveAppUpgrade(document, device('3.0.0'))).toEqual({
      update: true,
      latest: '3.2.0',
      url: URL,
      force: false,
      message: 'Faster maps',
      reason: 'newer-release',
    });
  });

  it('says why there is nothing: up to date, no release for the platform, none serving the device', () => {
    const document = build(ios('3.2.0', { rules: { rollout: 0, mandatory: false } }));
    expect(resolveAppUpgrade(document, device('3.2.0'))).toMatchObject({ update: false, latest: null, reason: 'up-to-date' });
    expect(resolveAppUpgrade(document, device('3.0.0', { platform: 'android' }))).toMatchObject({ update: false, reason: 'unknown-platform' });
    expect(resolveAppUpgrade(document, device('3.0.0'))).toMatchObject({ update: false, reason: 'no-matching-release' });
  });

  it('forces below --min-supported and for a mandatory release, also one skipped on the way', () => {
    const minimum = build(ios('3.2.0', { minSupported: '3.0.0' }));
    expect(resolveAppUpgrade(minimum, device('2.9.9'))).toMatchObject({ update: true, force: true, reason: 'below-min-supported' });
    expect(resolveAppUpgrade(minimum, device('3.0.0'))).toMatchObject({ update: true, force: false, reason: 'newer-release' });
    const skipped = build(ios('3.1.0', { rules: { rollout: 100, mandatory: true } }), ios('3.2.0'));
    expect(resolveAppUpgrade(skipped, device('3.0.0'))).toMatchObject({ latest: '3.2.0', force: true, reason: 'mandatory' });
    expect(resolveAppUpgrade(skipped, device('3.1.0'))).toMatchObject({ latest: '3.2.0', force: false });
  });

  it('uses the package rules: app-version range, whitelist, gray rollout salted per release; halted releases tell nobody', () => {
    const document = build(ios('3.2.0', { rules: { rollout: 0, mandatory: false, appVersion: '>=3.0.0', whitelist: ['qa'] } }));
    const qa = (list: string, id: string) => list === 'qa' && id === 'qa-1';
    expect(resolveAppUpgrade(document, device('3.0.0', { deviceId: 'qa-1' }), qa)).toMatchObject({ update: true });
    expect(resolveAppUpgrade(document, device('2.0.0', { deviceId: 'qa-1' }), qa)).toMatchObject({ update: false });
    const halted = haltAppRelease(build(ios('3.2.0')), 'ios', '3.2.0').document;
    expect(resolveAppUpgrade(halted, device('3.0.0'))).toMatchObject({ update: false, reason: 'no-matching-release' });
    const gray = build(ios('3.2.0', { rules: { rollout: 10, mandatory: false } }));
    const told = Array.from({ length: 10_000 }, (_, i) => `device-${i}`).filter((deviceId) => resolveAppUpgrade(gray, device('3.0.0', { deviceId })).update);
    expect(Math.abs(told.length / 10_000 - 0.1)).toBeLessThanOrEqual(0.01);
  });

  it('refuses an app version that is not semver as the caller\'s error', () => {
    expect(() => resolveAppUpgrade(build(ios('3.2.0')), device('three'))).toThrow(ProtocolError);
  });
});

describe('app-release edits', () => {
  it('adds only versions above the platform\'s others, with an https url and valid semver', () => {
    const document = build(ios('3.2.0'));
    expect(() => addAppRelease(document, ios('3.2.0'))).toThrow(/ios@3.2.0 is not above ios@3.2.0/);
    expect(() => addAppRelease(document, ios('3.1.9'))).toThrow(/must be above the platform's others/);
    expect(() => addAppRelease(document, ios('3.3.0', { url: 'http://apps.apple.com/app/id1' }))).toThrow(/not an https URL/);
    expect(() => addAppRelease(document, ios('3.3'))).toThrow(/not a semver version/);
    expect(() => addAppRelease(document, ios('3.3.0', { minSupported: '4.0.0' }))).toThrow(/above --version/);
    expect(addAppRelease(document, ios('3.3.0', { platform: 'Android' })).document.platforms.android.releases).toHaveLength(1);
    expect(addAppRelease(document, ios('3.3.0')).document.platforms.ios.releases.map((release) => release.version)).toEqual(['3.3.0', '3.2.0']);
  });

  it('rolls out (serving a halted release again), halts once, removes', () => {
    const document = build(ios('3.2.0', { rules: { rollout: 10, mandatory: false } }));
    const halted = haltAppRelease(document, 'ios', '3.2.0');
    expect(haltAppRelease(halted.document, 'ios', '3.2.0').unchanged).toMatch(/already halted/);
    const resumed = setAppReleaseRollout(halted.document, 'ios', '3.2.0', 50);
    expect(resumed.after).toMatchObject({ state: 'active', rules: { rollout: 50 } });
    expect(setAppReleaseRollout(resumed.document, 'ios', '3.2.0', '50').unchanged).toMatch(/already at 50%/);
    expect(removeAppRelease(resumed.document, 'ios', '3.2.0').document.platforms).toEqual({});
    expect(() => removeAppRelease(document, 'ios', '9.9.9')).toThrow(/no app release ios@9.9.9 on channel 'production'; there: ios@3.2.0/);
  });

  it('names a release as <platform>@<version>', () => {
    expect(parseAppReleaseTarget('iOS@3.2.0')).toEqual({ platform: 'ios', version: '3.2.0' });
    expect(() => parseAppReleaseTarget('ios')).toThrow(/not <platform>@<version>/);
  });
});
