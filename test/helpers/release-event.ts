import type { ReleaseEvent } from '../../src/protocol/release-event.js';

/** A publish of maps@1.2.0 on production; override what a test is about. */
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
    ...overrides,
  };
}
