import { describe, expect, it } from 'vitest';
import type { ChannelIndex } from '../../src/protocol/types.js';
import { resolveUpdate } from '../../src/client/resolve.js';
import { emptyIndex } from '../../src/protocol/channel-index.js';
import { requireCurrentRelease, halt, promote, resume, rollback, setRollout } from '../../src/release/operations.js';
import { UserError } from '../../src/errors.js';
import { delta, indexWith, release } from '../helpers/releases.js';

/** 1.0.0 → 1.1.0 → 1.2.0 (10%), each with a delta from the one before. */
const channel = () =>
  indexWith([
    release('1.0.0'),
    release('1.1.0', { deltas: [delta('1.1.0', '1.0.0')] }),
    release('1.2.0', { deltas: [delta('1.2.0', '1.1.0')], rules: { rollout: 10, mandatory: false } }),
  ]);

const states = (index: ChannelIndex) => index.packages.maps.releases.map((r) => `${r.version}:${r.state}:${r.rules.rollout}`);

/** Calls an operation, expecting a UserError whose message matches. */
function refused(operation: () => unknown, message: RegExp) {
  let error: unknown;
  try {
    operation();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(UserError);
  expect((error as Error).message).toMatch(message);
}

const devices = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);
const servedBy = (index: ChannelIndex, version: string) =>
  new Set(devices.filter((deviceId) => resolveUpdate(index, { package: 'maps', deviceId, installed: '1.1.0' }).version === version));

describe('setRollout', () => {
  it('changes the share of the newest release only, leaving the input index as it was', () => {
    const before = channel();
    const copy = structuredClone(before);
    const change = setRollout(before, 'maps', 50);
    expect(states(change.index)).toEqual(['1.2.0:active:50', '1.1.0:active:100', '1.0.0:active:100']);
    expect(change).toMatchObject({ version: '1.2.0', before: { rules: { rollout: 10 } }, after: { rules: { rollout: 50 } } });
    expect(before).toEqual(copy);
  });

  it('keeps two decimals and accepts a percent sign', () => {
    expect(setRollout(channel(), 'maps', '12.34%').after.rules.rollout).toBe(12.34);
  });

  it('changes nothing for the share already served, halted or not, and says why', () => {
    const same = setRollout(channel(), 'maps', 10);
    expect(same.unchanged).toMatch(/package 'maps' 1\.2\.0 on channel 'production' is already at 10%; nothing to change/);
    expect(same.index).toEqual(channel());
    expect(setRollout(halt(channel(), 'maps').index, 'maps', '10').unchanged).toMatch(/already at 10%/);
    expect(setRollout(channel(), 'maps', 50).unchanged).toBeUndefined();
  });

  it('acts on a named version only while it is the one served', () => {
    expect(setRollout(channel(), 'maps', 50, '1.2.0').version).toBe('1.2.0');
    refused(() => setRollout(channel(), 'maps', 50, '1.1.0'), /package 'maps' on channel 'production' serves 1\.2\.0, not 1\.1\.0/);
    refused(() => halt(channel(), 'maps', '1.1.0'), /serves 1\.2\.0, not 1\.1\.0/);
    refused(() => resume(halt(channel(), 'maps').index, 'maps', '1.1.0'), /serves 1\.2\.0, not 1\.1\.0/);
    refused(() => halt(channel(), 'maps', '9.9.9'), /has no version 9\.9\.9/);
  });

  it('acts on the newest release that is not rolled back, and keeps a halted one halted', () => {
    const rolledBack = rollback(channel(), 'maps').index;
    expect(setRollout(rolledBack, 'maps', 30).version).toBe('1.1.0');
    const halted = halt(channel(), 'maps').index;
    expect(setRollout(halted, 'maps', 30).after).toMatchObject({ version: '1.2.0', state: 'halted', rules: { rollout: 30 } });
  });

  it('refuses a share outside 0–100 and a package the channel does not release', () => {
    refused(() => setRollout(channel(), 'maps', 101), /outside 0–100/);
    refused(() => setRollout(channel(), 'maps', -1), /outside 0–100/);
    refused(() => setRollout(channel(), 'maps', 'lots'), /outside 0–100/);
    refused(() => setRollout(channel(), 'levels', 50), /package 'levels' has no releases on channel 'production'; released there: maps/);
    refused(() => setRollout(emptyIndex('production'), 'maps', 50), /publish it there first/);
  });

  it('serves 10% then 50% of 10,000 devices (±1.5 points), every device of 10% still in at 50%', () => {
    const atTen = servedBy(channel(), '1.2.0'); // the channel serves 1.2.0 to 10%
    const atFifty = servedBy(setRollout(channel(), 'maps', 50).index, '1.2.0');
    expect(Math.abs(atTen.size / devices.length - 0.1)).toBeLessThanOrEqual(0.015);
    expect(Math.abs(atFifty.size / devices.length - 0.5)).toBeLessThanOrEqual(0.015);
    for (const deviceId of atTen) expect(atFifty.has(deviceId)).toBe(true);
  });
});

describe('halt and resume', () => {
  it('halt serves nobody the release and keeps its rollout; resume serves exactly the same devices again', () => {
    const served = servedBy(channel(), '1.2.0');
    const halted = halt(channel(), 'maps');
    expect(halted.after).toMatchObject({ state: 'halted', rules: { rollout: 10 } });
    expect(servedBy(halted.index, '1.2.0').size).toBe(0);
    const resumed = resume(halted.index, 'maps');
    expect(resumed.after.state).toBe('active');
    expect(servedBy(resumed.index, '1.2.0')).toEqual(served);
  });

  it('changes nothing when halting a halted release or resuming one that is not halted, and says why', () => {
    expect(halt(halt(channel(), 'maps').index, 'maps').unchanged).toMatch(/1\.2\.0 on channel 'production' is already halted; run 'update-publish resume maps'/);
    expect(resume(channel(), 'maps').unchanged).toMatch(/1\.2\.0 on channel 'production' is not halted/);
  });
});

describe('rollback', () => {
  it('by default serves the previous active release, marking the newer ones rolled back', () => {
    const change = rollback(channel(), 'maps');
    expect(change).toMatchObject({ from: '1.2.0', to: '1.1.0', rolledBack: ['1.2.0'] });
    expect(states(change.index)).toEqual(['1.2.0:rolled-back:10', '1.1.0:active:100', '1.0.0:active:100']);
    // Again: on to 1.0.0.
    expect(rollback(change.index, 'maps')).toMatchObject({ from: '1.1.0', to: '1.0.0', rolledBack: ['1.1.0'] });
  });

  it('skips halted releases below the current one and rolls them back too', () => {
    const index = indexWith([release('1.0.0'), release('1.1.0', { state: 'halted' }), release('1.2.0')]);
    expect(rollback(index, 'maps')).toMatchObject({ to: '1.0.0', rolledBack: ['1.2.0', '1.1.0'] });
  });

  it('sends a device on the bad version back: a delta when one exists, else the full package', () => {
    const withDelta = indexWith([
      release('1.0.0'),
      release('1.1.0', { deltas: [delta('1.1.0', '1.0.0'), delta('1.1.0', '1.2.0')] }),
      release('1.2.0'),
    ]);
    const back = rollback(withDelta, 'maps').index;
    expect(resolveUpdate(back, { package: 'maps', deviceId: 'd', installed: '1.2.0' })).toMatchObject({
      update: true,
      version: '1.1.0',
      kind: 'delta',
      key: 'packages/maps/1.1.0/delta-from-1.2.0.zip',
      reason: 'rollback',
    });
    const full = rollback(channel(), 'maps').index;
    expect(resolveUpdate(full, { package: 'maps', deviceId: 'd', installed: '1.2.0' })).toMatchObject({
      version: '1.1.0',
      kind: 'full',
      reason: 'rollback',
    });
  });

  it('--to names the release: everything above it is rolled back', () => {
    const change = rollback(channel(), 'maps', '1.0.0');
    expect(change).toMatchObject({ from: '1.2.0', to: '1.0.0', rolledBack: ['1.2.0', '1.1.0'] });
    expect(requireCurrentRelease(change.index, 'maps').version).toBe('1.0.0');
  });

  it('--to a rolled-back or halted release serves it again', () => {
    const back = rollback(channel(), 'maps').index;
    const forward = rollback(back, 'maps', '1.2.0');
    expect(forward).toMatchObject({ from: '1.1.0', to: '1.2.0', rolledBack: [] });
    expect(states(forward.index)).toEqual(['1.2.0:active:10', '1.1.0:active:100', '1.0.0:active:100']);
    const halted = halt(channel(), 'maps').index;
    expect(states(rollback(halted, 'maps', '1.2.0').index)[0]).toBe('1.2.0:active:10');
  });

  it('refuses when there is nothing to roll back to, an unknown or malformed version, or the version already served', () => {
    refused(() => rollback(indexWith([release('1.0.0')]), 'maps'), /no active release before 1\.0\.0 to roll back to/);
    refused(() => rollback(rollback(rollback(channel(), 'maps').index, 'maps').index, 'maps'), /no active release before 1\.0\.0/);
    refused(() => rollback(channel(), 'maps', '0.9.0'), /no version 0\.9\.0 on channel 'production'; released there: 1\.2\.0, 1\.1\.0, 1\.0\.0/);
    refused(() => rollback(channel(), 'maps', 'one'), /'one' is not semver/);
    refused(() => rollback(channel(), 'maps', '1.2.0'), /1\.2\.0 is already the newest release served/);
    refused(() => rollback(channel(), 'levels'), /package 'levels' has no releases/);
  });
});

describe('promote', () => {
  const staging = () => ({ ...channel(), channel: 'staging' });
  const production = () => indexWith([release('1.0.0', { releasedAt: '2024-01-01T00:00:00.000Z' })]);
  const rules = { rollout: 5, mandatory: true };
  const now = new Date('2026-03-01T00:00:00Z');

  it('copies the stored references with fresh rules, active, released now', () => {
    const source = staging();
    const change = promote(source, production(), 'maps', '1.1.0', rules, now);
    const sourceRelease = source.packages.maps.releases[1];
    expect(change.release).toEqual({ ...sourceRelease, rules, state: 'active', releasedAt: now.toISOString() });
    expect(change.previousVersion).toBe('1.0.0');
    expect(change.index.packages.maps.releases.map((r) => r.version)).toEqual(['1.1.0', '1.0.0']);
    expect(change.index.channel).toBe('production');
  });

  it('without a version takes the newest active release of the source', () => {
    const halted = halt(staging(), 'maps').index;
    expect(promote(halted, production(), 'maps', undefined, rules, now).release.version).toBe('1.1.0');
    expect(promote(staging(), emptyIndex('production'), 'maps', undefined, rules, now)).toMatchObject({
      release: { version: '1.2.0' },
      previousVersion: null,
    });
  });

  it('refuses the same channel, a version the target has, and versions or packages the source lacks', () => {
    refused(() => promote(staging(), staging(), 'maps', undefined, rules, now), /--from and --to are both 'staging'/);
    refused(() => promote(staging(), production(), 'maps', '1.0.0', rules, now), /1\.0\.0 is already on channel 'production' \(active\)/);
    refused(() => promote(staging(), production(), 'maps', '3.0.0', rules, now), /no version 3\.0\.0 on channel 'staging'/);
    refused(() => promote(staging(), production(), 'levels', undefined, rules, now), /package 'levels' has no releases on channel 'staging'/);
    const allHalted = indexWith([release('1.0.0', { state: 'halted' })]);
    refused(() => promote({ ...allHalted, channel: 'staging' }, production(), 'maps', undefined, rules, now), /no active release on channel 'staging'/);
  });
});
