import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/protocol/types.js';
import { emptyIndex, findRelease, latestRelease, parseIndex, updateRelease, upsertRelease } from '../../src/protocol/channel-index.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { indexWith, release } from '../helpers/releases.js';
import { splitUnreachable } from '../../src/release/reachability.js';
import { resolveUpdate, type DeviceRequest } from '../../src/client/resolve.js';
import type { Release, ReleaseRules } from '../../src/protocol/types.js';
import { seededRandom } from '../helpers/seeded-random.js';

describe('channel index', () => {
  it('starts empty for a channel', () => {
    expect(emptyIndex('beta')).toEqual({ schemaVersion: SCHEMA_VERSION, channel: 'beta', updatedAt: new Date(0).toISOString(), packages: {} });
  });

  it('keeps releases newest first by semver, whatever order they are added in', () => {
    let index = emptyIndex('production');
    for (const version of ['1.0.0', '1.10.0', '1.2.0', '2.0.0-beta.1', '1.9.0']) index = upsertRelease(index, 'maps', release(version));
    expect(index.packages.maps.releases.map((r) => r.version)).toEqual(['2.0.0-beta.1', '1.10.0', '1.9.0', '1.2.0', '1.0.0']);
    expect(latestRelease(index, 'maps')?.version).toBe('2.0.0-beta.1');
    expect(latestRelease(index, 'levels')).toBeUndefined();
  });

  it('replaces a release of the same version and leaves other packages and the input alone', () => {
    const start = upsertRelease(upsertRelease(emptyIndex('production'), 'levels', release('3.0.0')), 'maps', release('1.0.0'));
    const next = upsertRelease(start, 'maps', release('1.0.0', { state: 'halted' }));
    expect(next.packages.maps.releases).toHaveLength(1);
    expect(findRelease(next, 'maps', '1.0.0')?.state).toBe('halted');
    expect(findRelease(start, 'maps', '1.0.0')?.state).toBe('active');
    expect(next.packages.levels).toEqual(start.packages.levels);
    expect(findRelease(next, 'maps', '9.9.9')).toBeUndefined();
  });

  it('changes one release with updateRelease, returning a new index', () => {
    const start = upsertRelease(upsertRelease(emptyIndex('production'), 'maps', release('1.0.0')), 'maps', release('1.1.0'));
    const next = updateRelease(start, 'maps', '1.0.0', (r) => ({ ...r, rules: { ...r.rules, rollout: 5 } }));
    expect(findRelease(next, 'maps', '1.0.0')?.rules.rollout).toBe(5);
    expect(findRelease(next, 'maps', '1.1.0')?.rules.rollout).toBe(100);
    expect(findRelease(start, 'maps', '1.0.0')?.rules.rollout).toBe(100);
  });

  it('parses what it serialises', () => {
    const index = upsertRelease(emptyIndex('production'), 'maps', release('1.0.0'));
    expect(parseIndex(Buffer.from(JSON.stringify(index)), 'k')).toEqual(index);
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['null', 'null', /malformed/],
    ['an array', '[]', /malformed/],
    ['without packages', '{"schemaVersion":1}', /malformed/],
    ['from a newer schema', `{"schemaVersion":${SCHEMA_VERSION + 1},"packages":{}}`, /upgrade update-publish/],
    [
      'valid JSON of the wrong shape (a release without its fields)',
      '{"schemaVersion":1,"channel":"production","updatedAt":"2026-01-01T00:00:00Z","packages":{"maps":{"releases":[{"version":"../../x"}]}}}',
      /malformed at packages\.maps\.releases\.0\.version: not a semver version; restore it/,
    ],
    [
      'a release whose rollout is a string',
      JSON.stringify({ ...indexWith([release('1.0.0', { rules: { rollout: '50' as unknown as number, mandatory: false } })]), updatedAt: '2026-01-01T00:00:00Z' }),
      /malformed at packages\.maps\.releases\.0\.rules\.rollout: /,
    ],
  ])('refuses an index that is %s', (_, body, message) => {
    const attempt = () => parseIndex(Buffer.from(body), 'channels/production/index.json');
    expect(attempt).toThrow(ProtocolError);
    expect(attempt).toThrow(message);
  });
});

describe('splitUnreachable', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  it('keeps releases down to the newest unconditional active one', () => {
    const index = indexWith([
      release('1.0.0'),
      release('1.1.0', { rules: { rollout: 100, mandatory: false, endsAt: '2026-12-01T00:00:00.000Z' } }),
      release('1.2.0'),
      release('1.3.0', { rules: { rollout: 10, mandatory: false } }),
      release('1.4.0', { state: 'halted' }),
    ]);
    const { index: kept, unreachable } = splitUnreachable(index, now);
    expect(kept.packages.maps.releases.map((r) => r.version)).toEqual(['1.4.0', '1.3.0', '1.2.0']);
    expect(unreachable.get('maps')!.map((r) => r.version)).toEqual(['1.1.0', '1.0.0']);
  });

  it('keeps everything when no release serves every device', () => {
    const index = indexWith([release('1.0.0', { rules: { rollout: 100, mandatory: false, platforms: ['ios'] } }), release('1.1.0', { rules: { rollout: 50, mandatory: false } })]);
    expect(splitUnreachable(index, now).unreachable.size).toBe(0);
    const future = indexWith([release('1.0.0'), release('1.1.0', { rules: { rollout: 100, mandatory: false, startsAt: '2027-01-01T00:00:00.000Z' } })]);
    expect(splitUnreachable(future, now).index.packages.maps.releases).toHaveLength(2);
  });

  it('trims a history that always carries the same targeting, down to its newest release', () => {
    const rules = { rollout: 100, mandatory: false, platforms: ['ios', 'android'], appVersion: '>=2.0.0' };
    const index = indexWith(['1.0.0', '1.1.0', '1.2.0'].map((version) => release(version, { rules })));
    expect(splitUnreachable(index, now).index.packages.maps.releases.map((r) => r.version)).toEqual(['1.2.0']);
  });

  it('trims a release only below one that targets every device it targets', () => {
    const rulesOf = (extra: Partial<ReleaseRules>) => ({ rules: { rollout: 100, mandatory: false, ...extra } });
    const index = indexWith([
      release('1.0.0', rulesOf({ platforms: ['ios'], appVersion: '>=2.1.0', attributes: { region: 'eu', tier: 'gold' } })), // narrower than 1.1.0
      release('1.1.0', rulesOf({ platforms: ['ios', 'android'], appVersion: '>=2.0.0', attributes: { region: 'eu' } })),
      release('1.2.0', rulesOf({ platforms: ['ios'], appVersion: '>=2.0.0', attributes: { region: 'eu' } })), // narrower than 1.3.0? no: other region
      release('1.3.0', rulesOf({ platforms: ['ios'], appVersion: '>=2.0.0', attributes: { region: 'us' } })),
    ]);
    const { index: kept, unreachable } = splitUnreachable(index, now);
    expect(kept.packages.maps.releases.map((r) => r.version)).toEqual(['1.3.0', '1.2.0', '1.1.0']);
    expect(unreachable.get('maps')!.map((r) => r.version)).toEqual(['1.0.0']);
  });

  it('keeps the newest mandatory release below a kept one, so skipping it stays mandatory', () => {
    const mandatory = { rules: { rollout: 100, mandatory: true } };
    const index = indexWith([release('1.0.0', mandatory), release('1.1.0', mandatory), release('1.2.0'), release('1.3.0')]);
    const { index: kept, unreachable } = splitUnreachable(index, now);
    expect(kept.packages.maps.releases.map((r) => r.version)).toEqual(['1.3.0', '1.1.0']);
    expect(unreachable.get('maps')!.map((r) => r.version)).toEqual(['1.2.0', '1.0.0']);
    expect(resolveUpdate(kept, { package: 'maps', installed: '1.0.0', now })).toMatchObject({ version: '1.3.0', mandatory: true });
  });

  it('never changes what a device is told: random histories, random devices, trimmed or not', () => {
    const random = seededRandom(20261124);
    const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)];
    const platforms = [undefined, ['ios'], ['android'], ['ios', 'android']];
    const appVersions = [undefined, '>=2.0.0', '>=2.0.0 <3', '^2.1.0', '>=3.0.0', '>=2.1.0-beta.0', '2.x || >=3.0.0-rc.0'];
    const attributes: (Record<string, string> | undefined)[] = [undefined, { region: 'eu' }, { region: 'us' }, { region: 'eu', tier: 'gold' }];
    const states = ['active', 'active', 'active', 'halted', 'rolled-back'] as const;
    const versions = Array.from({ length: 12 }, (_, i) => `1.${i}.0`);
    let trimmedAway = 0;
    for (let history = 0; history < 300; history++) {
      const releases: Release[] = versions.map((version) => {
        const rules: ReleaseRules = { rollout: pick([100, 100, 100, 50, 0]), mandatory: random() < 0.2 };
        const [p, a, t] = [pick(platforms), pick(appVersions), pick(attributes)];
        if (p) rules.platforms = p;
        if (a) rules.appVersion = a;
        if (t) rules.attributes = t;
        if (random() < 0.1) rules.startsAt = pick(['2026-01-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z']);
        if (random() < 0.1) rules.endsAt = pick(['2026-03-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z']);
        if (random() < 0.1) rules.whitelist = ['testers'];
        return release(version, { rules, state: pick(states) });
      });
      const full = indexWith(releases);
      const trimmed = splitUnreachable(full, now).index;
      trimmedAway += versions.length - trimmed.packages.maps.releases.length;
      const isWhitelisted = (_list: string, deviceId: string) => deviceId.endsWith('7');
      for (let device = 0; device < 40; device++) {
        const request: DeviceRequest = {
          package: 'maps',
          platform: pick(['ios', 'android', undefined]),
          appVersion: pick(['1.9.0', '2.0.0', '2.1.5', '2.1.0-beta.1', '3.0.1', '3.0.0-rc.1', undefined]),
          attributes: pick<Record<string, string> | undefined>([undefined, { region: 'eu' }, { region: 'us', tier: 'gold' }, { region: 'eu', tier: 'gold' }]),
          deviceId: `device-${Math.floor(random() * 100)}`,
          installed: pick([undefined, '0.9.0', ...versions]),
          now,
        };
        expect(resolveUpdate(trimmed, request, isWhitelisted), JSON.stringify({ history, request })).toEqual(resolveUpdate(full, request, isWhitelisted));
      }
    }
    expect(trimmedAway).toBeGreaterThan(300); // the histories do get trimmed: on average more than one release each
  });
});

