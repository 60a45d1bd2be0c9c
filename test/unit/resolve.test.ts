import { describe, expect, it } from 'vitest';
import { inRollout, rolloutBucket, rolloutThreshold } from '../../src/protocol/rollout.js';
import { withRollout } from '../../src/release/rules.js';
import { resolveUpdate, type DeviceRequest } from '../../src/client/resolve.js';
import { delta, indexWith, release } from '../helpers/releases.js';

const device = (overrides: Partial<DeviceRequest> = {}): DeviceRequest => ({
  package: 'maps',
  platform: 'ios',
  appVersion: '2.0.0',
  deviceId: 'device-1',
  now: new Date('2026-06-01T00:00:00Z'),
  ...overrides,
});

/** 1.0.0 → 1.1.0 → 1.2.0, the newest with deltas from both older versions. */
const history = () =>
  indexWith([
    release('1.0.0'),
    release('1.1.0', { deltas: [delta('1.1.0', '1.0.0')] }),
    release('1.2.0', { deltas: [delta('1.2.0', '1.1.0'), delta('1.2.0', '1.0.0')] }),
  ]);

describe('resolveUpdate', () => {
  it('gives a device without the package the newest full package', () => {
    expect(resolveUpdate(history(), device())).toEqual({
      update: true,
      version: '1.2.0',
      kind: 'full',
      patched: false,
      key: 'packages/maps/1.2.0/full.zip',
      size: 1000,
      sha256: 'full-1.2.0',
      manifestKey: 'packages/maps/1.2.0/manifest.json',
      mandatory: false,
      reason: 'not-installed',
    });
  });

  it('gives the delta from the installed version when there is one', () => {
    const resolution = resolveUpdate(history(), device({ installed: '1.0.0' }));
    expect(resolution).toMatchObject({ update: true, version: '1.2.0', kind: 'delta', key: 'packages/maps/1.2.0/delta-from-1.0.0.zip', reason: 'newer-release' });
    expect(resolution.sha256).toBe('delta-1.0.0-1.2.0');
  });

  it('gives the patched delta only to a device that says it can apply patches', () => {
    const patched = { key: 'packages/maps/1.1.0/delta-from-1.0.0.patched.zip', size: 10, sha256: 'patched' };
    const index = indexWith([release('1.0.0'), release('1.1.0', { deltas: [{ ...delta('1.1.0', '1.0.0'), patched }] })]);
    const fileLevel = { kind: 'delta', patched: false, key: 'packages/maps/1.1.0/delta-from-1.0.0.zip' };
    expect(resolveUpdate(index, device({ installed: '1.0.0' }))).toMatchObject(fileLevel);
    expect(resolveUpdate(index, device({ installed: '1.0.0', patches: false }))).toMatchObject(fileLevel);
    expect(resolveUpdate(index, device({ installed: '1.0.0', patches: true }))).toMatchObject({ kind: 'delta', patched: true, ...patched });
    // A delta without patches stays file-level whatever the device can do.
    expect(resolveUpdate(history(), device({ installed: '1.0.0', patches: true }))).toMatchObject({ patched: false, key: 'packages/maps/1.2.0/delta-from-1.0.0.zip' });
  });

  it('falls back to the full package when no delta starts at the installed version', () => {
    const index = indexWith([release('1.0.0'), release('1.1.0', { deltas: [delta('1.1.0', '0.9.0')] })]);
    expect(resolveUpdate(index, device({ installed: '1.0.0' }))).toMatchObject({ kind: 'full', key: 'packages/maps/1.1.0/full.zip' });
  });

  it('gives nothing to a device that is up to date, and says so', () => {
    expect(resolveUpdate(history(), device({ installed: '1.2.0' }))).toMatchObject({ update: false, version: '1.2.0', kind: null, key: null, reason: 'up-to-date' });
  });

  it('gives nothing for an unknown package or when no release matches', () => {
    expect(resolveUpdate(history(), device({ package: 'levels' }))).toMatchObject({ update: false, reason: 'unknown-package' });
    const iosOnly = indexWith([release('1.0.0', { rules: { rollout: 100, mandatory: false, platforms: ['ios'] } })]);
    expect(resolveUpdate(iosOnly, device({ platform: 'android' }))).toMatchObject({ update: false, version: null, reason: 'no-matching-release' });
  });

  it('falls back to the next older release whose rules match', () => {
    const index = indexWith([
      release('1.0.0'),
      release('1.1.0', { rules: { rollout: 100, mandatory: false, appVersion: '>=2.0.0' }, deltas: [delta('1.1.0', '1.0.0')] }),
      release('1.2.0', { rules: { rollout: 100, mandatory: false, platforms: ['android'] } }),
    ]);
    expect(resolveUpdate(index, device({ installed: '1.0.0' }))).toMatchObject({ version: '1.1.0', kind: 'delta' });
    expect(resolveUpdate(index, device({ appVersion: '1.9.0' }))).toMatchObject({ version: '1.0.0', kind: 'full' });
    expect(resolveUpdate(index, device({ appVersion: undefined }))).toMatchObject({ version: '1.0.0' });
    expect(resolveUpdate(index, device({ platform: 'android' }))).toMatchObject({ version: '1.2.0' });
  });

  it('serves a release only inside its time window: from startsAt, until (not at) endsAt', () => {
    const window = { rollout: 100, mandatory: false, startsAt: '2026-07-01T00:00:00.000Z', endsAt: '2026-08-01T00:00:00.000Z' };
    const index = indexWith([release('1.0.0'), release('1.1.0', { rules: window })]);
    const at = (iso: string) => resolveUpdate(index, device({ now: new Date(iso) })).version;
    expect(at('2026-06-30T23:59:59.999Z')).toBe('1.0.0');
    expect(at('2026-07-01T00:00:00.000Z')).toBe('1.1.0');
    expect(at('2026-07-31T23:59:59.999Z')).toBe('1.1.0');
    expect(at('2026-08-01T00:00:00.000Z')).toBe('1.0.0');
  });

  it('serves a partial rollout to the devices in it and the previous release to the rest', () => {
    const index = indexWith([release('1.0.0'), release('1.1.0', { rules: { rollout: 10, mandatory: false } })]);
    const ids = Array.from({ length: 200 }, (_, i) => `device-${i}`);
    const inside = ids.find((id) => inRollout(id, 'maps', '1.1.0', 10))!;
    const outside = ids.find((id) => !inRollout(id, 'maps', '1.1.0', 10))!;
    expect(resolveUpdate(index, device({ deviceId: inside })).version).toBe('1.1.0');
    expect(resolveUpdate(index, device({ deviceId: outside })).version).toBe('1.0.0');
  });

  it('does not serve halted or rolled-back releases, and never moves a device backwards unless rolled back', () => {
    const halted = indexWith([release('1.0.0'), release('1.1.0', { state: 'halted' })]);
    expect(resolveUpdate(halted, device()).version).toBe('1.0.0');
    expect(resolveUpdate(halted, device({ installed: '1.1.0' }))).toMatchObject({ update: false, reason: 'installed-newer', version: '1.1.0' });

    const rolledBack = indexWith([release('1.0.0'), release('1.1.0', { state: 'rolled-back' })]);
    expect(resolveUpdate(rolledBack, device({ installed: '1.1.0' }))).toMatchObject({ update: true, version: '1.0.0', kind: 'full', reason: 'rollback' });
  });

  describe('mandatory', () => {
    const mandatory = { rollout: 100, mandatory: true };

    it('is mandatory when the release is', () => {
      const index = indexWith([release('1.0.0'), release('1.1.0', { rules: mandatory })]);
      expect(resolveUpdate(index, device({ installed: '1.0.0' })).mandatory).toBe(true);
    });

    it('stays mandatory for a device that skips a mandatory release on its way to a newer one', () => {
      const index = indexWith([release('1.0.0'), release('1.1.0', { rules: mandatory }), release('1.2.0')]);
      expect(resolveUpdate(index, device({ installed: '1.0.0' }))).toMatchObject({ version: '1.2.0', mandatory: true });
      expect(resolveUpdate(index, device({ installed: '1.1.0' }))).toMatchObject({ version: '1.2.0', mandatory: false });
    });

    it('ignores a mandatory release that was rolled back', () => {
      const index = indexWith([release('1.0.0'), release('1.1.0', { rules: mandatory, state: 'rolled-back' }), release('1.2.0')]);
      expect(resolveUpdate(index, device({ installed: '1.0.0' })).mandatory).toBe(false);
    });

    it('ignores a skipped mandatory release that was halted', () => {
      const index = indexWith([release('1.0.0'), release('1.1.0', { rules: mandatory, state: 'halted' }), release('1.2.0')]);
      expect(resolveUpdate(index, device({ installed: '1.0.0' })).mandatory).toBe(false);
    });

    it('counts a skipped mandatory release only when its targeting included the device, whatever its rollout', () => {
      const androidOnly = { ...mandatory, platforms: ['android'] };
      const index = indexWith([release('1.0.0'), release('1.1.0', { rules: androidOnly }), release('1.2.0')]);
      expect(resolveUpdate(index, device({ platform: 'ios', installed: '1.0.0' }))).toMatchObject({ version: '1.2.0', mandatory: false });
      expect(resolveUpdate(index, device({ platform: 'android', installed: '1.0.0' }))).toMatchObject({ version: '1.2.0', mandatory: true });
      const tinyRollout = indexWith([release('1.0.0'), release('1.1.0', { rules: { ...mandatory, rollout: 0 } }), release('1.2.0')]);
      expect(resolveUpdate(tinyRollout, device({ installed: '1.0.0' })).mandatory).toBe(true);
    });
  });

  it('matches device attributes exactly', () => {
    const index = indexWith([release('1.0.0'), release('1.1.0', { rules: { rollout: 100, mandatory: false, attributes: { region: 'eu' } } })]);
    expect(resolveUpdate(index, device({ attributes: { region: 'eu' } })).version).toBe('1.1.0');
    expect(resolveUpdate(index, device({ attributes: { region: 'us' } })).version).toBe('1.0.0');
    expect(resolveUpdate(index, device()).version).toBe('1.0.0');
  });
});

describe('resolveUpdate after a rollback', () => {
  it('sends every device on the rolled-back release back, even outside the older release rollout', () => {
    const index = indexWith([
      release('1.0.0', { rules: { rollout: 10, mandatory: false } }),
      release('1.0.1', { state: 'rolled-back' }),
    ]);
    const outside = Array.from({ length: 200 }, (_, i) => `device-${i}`).filter((id) => !inRollout(id, 'maps', '1.0.0', 10));
    expect(outside.length).toBeGreaterThan(100);
    for (const deviceId of outside) {
      expect(resolveUpdate(index, device({ deviceId, installed: '1.0.1' }))).toMatchObject({ update: true, version: '1.0.0', reason: 'rollback' });
      // A device that never had the bad release still follows the older release's rollout.
      expect(resolveUpdate(index, device({ deviceId }))).toMatchObject({ update: false, reason: 'no-matching-release' });
    }
  });
});

describe('one rule for platform case and one integer rollout threshold (issue 15, items 4 and 5)', () => {
  it('matches platforms case-insensitively, as the CLI does', () => {
    const index = indexWith([release('1.0.2', { rules: { rollout: 100, mandatory: false, platforms: ['ios'] } }), release('1.0.1')]);
    for (const platform of ['iOS', 'IOS', ' ios ']) {
      expect(resolveUpdate(index, { package: 'maps', platform }).version).toBe('1.0.2');
    }
    expect(resolveUpdate(indexWith([release('1.0.2', { rules: { rollout: 100, mandatory: false, platforms: ['iOS'] } })]), { package: 'maps', platform: 'ios' }).version).toBe('1.0.2');
  });

  it('compares the bucket with the integer threshold the publisher fixed, so 1.1 % never depends on float rounding', () => {
    expect(withRollout(1.1)).toEqual({ rollout: 1.1, rolloutBasisPoints: 110 });
    expect(withRollout(0.29).rolloutBasisPoints).toBe(29);
    expect(withRollout(12.34).rolloutBasisPoints).toBe(1234);
    // A device whose bucket is exactly 110 is outside 1.1 %; bucket 109 is inside.
    const idFor = (bucket: number) => Array.from({ length: 200_000 }, (_, i) => `device-${i}`).find((id) => rolloutBucket(id, 'maps', '1.0.0') === bucket)!;
    const rules = withRollout(1.1);
    expect(inRollout(idFor(110), 'maps', '1.0.0', rules)).toBe(false);
    expect(inRollout(idFor(109), 'maps', '1.0.0', rules)).toBe(true);
    // An index written before the integer existed still derives the same threshold.
    expect(rolloutThreshold({ rollout: 1.1 })).toBe(110);
    expect(rolloutThreshold({ rollout: 1.1, rolloutBasisPoints: 110 })).toBe(110);
  });
});
