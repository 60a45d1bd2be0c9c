import { emptyAppReleases, type AppReleasesDocument } from '../../src/protocol/app-releases.js';
import type { AppReleaseEvent, ReleaseEvent, SwitchEvent } from '../../src/protocol/release-event.js';
import { emptySwitches, type SwitchesDocument } from '../../src/protocol/switches.js';
import { release } from './releases.js';

/** A publish of maps@1.2.0 (over 1.1.0) on production; override what a test is about. */
export function releaseEvent(overrides: Partial<ReleaseEvent> = {}): ReleaseEvent {
  return {
    event: 'publish',
    package: 'maps',
    version: '1.2.0',
    previousVersion: '1.1.0',
    channel: 'production',
    rollout: 10,
    mandatory: false,
    rules: { rollout: 10, mandatory: false, platforms: ['ios', 'android'], appVersion: '>=2.0.0' },
    size: 123_456,
    key: 'packages/maps/1.2.0/full.zip',
    changedKeys: ['channels/production/index.json', 'packages/maps/1.2.0/manifest.json'],
    store: 's3://releases-bucket/updates',
    at: '2025-01-02T03:04:05.000Z',
    actor: 'ci',
    releases: [release('1.2.0', { rules: { rollout: 10, mandatory: false, platforms: ['ios', 'android'], appVersion: '>=2.0.0' } }), release('1.1.0')],
    indexVersion: 4,
    ...overrides,
  };
}

/** A `switch set` of newCheckout making version 7 of production's switches; override what a test is about. */
export function switchEvent(overrides: Partial<SwitchEvent> = {}): SwitchEvent {
  const documentVersion = overrides.documentVersion ?? 7;
  const document: SwitchesDocument = {
    ...emptySwitches('production'),
    version: documentVersion,
    updatedAt: '2025-01-02T03:04:05.000Z',
    switches: { newCheckout: { type: 'boolean', default: false, variants: [{ value: true, rules: { rollout: 10 } }] } },
  };
  return {
    event: 'switch',
    action: 'set',
    keys: ['newCheckout'],
    channel: 'production',
    documentKey: 'channels/production/switches.json',
    documentVersion,
    document,
    changedKeys: ['channels/production/switches.json'],
    store: 's3://releases-bucket/updates',
    at: '2025-01-02T03:04:05.000Z',
    actor: 'ci',
    ...overrides,
  };
}

/** An `app-release add` of ios@3.2.0 making version 2 of production's app releases. */
export function appReleaseEvent(overrides: Partial<AppReleaseEvent> = {}): AppReleaseEvent {
  const documentVersion = overrides.documentVersion ?? 2;
  const document: AppReleasesDocument = {
    ...emptyAppReleases('production'),
    version: documentVersion,
    updatedAt: '2025-01-02T03:04:05.000Z',
    platforms: {
      ios: {
        releases: [
          { version: '3.2.0', url: 'https://apps.apple.com/app/id1', releasedAt: '2025-01-02T03:04:05.000Z', state: 'active', rules: { rollout: 10, mandatory: false } },
        ],
      },
    },
  };
  return {
    event: 'app-release',
    action: 'add',
    platform: 'ios',
    version: '3.2.0',
    rollout: 10,
    mandatory: false,
    channel: 'production',
    documentKey: 'channels/production/app-releases.json',
    documentVersion,
    document,
    changedKeys: ['channels/production/app-releases.json'],
    store: 's3://releases-bucket/updates',
    at: '2025-01-02T03:04:05.000Z',
    actor: 'ci',
    ...overrides,
  };
}
