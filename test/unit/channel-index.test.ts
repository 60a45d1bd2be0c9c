import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/client/protocol.js';
import { emptyIndex, findRelease, latestRelease, parseIndex, updateRelease, upsertRelease } from '../../src/release/channel-index.js';
import { StoreError } from '../../src/errors.js';
import { indexWith, release } from '../helpers/releases.js';
import { splitUnreachable } from '../../src/release/archive.js';

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
  ])('refuses an index that is %s', (_, body, message) => {
    const attempt = () => parseIndex(Buffer.from(body), 'channels/production/index.json');
    expect(attempt).toThrow(StoreError);
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
});
