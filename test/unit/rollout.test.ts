import { describe, expect, it } from 'vitest';
import { inRollout, ROLLOUT_BUCKETS, rolloutBucket } from '../../src/protocol/rollout.js';

const devices = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);
const share = (percent: number, version = '1.0.0') => devices.filter((id) => inRollout(id, 'maps', version, percent)).length / devices.length;

describe('rollout buckets', () => {
  it('puts a device in the same bucket every time, within 0–9999', () => {
    for (const id of devices.slice(0, 100)) {
      const bucket = rolloutBucket(id, 'maps', '1.0.0');
      expect(bucket).toBe(rolloutBucket(id, 'maps', '1.0.0'));
      expect(Number.isInteger(bucket) && bucket >= 0 && bucket < ROLLOUT_BUCKETS).toBe(true);
    }
  });

  it('serves nobody at 0% and everybody at 100%', () => {
    expect(share(0)).toBe(0);
    expect(share(100)).toBe(1);
  });

  it('serves 10% of 10,000 devices within ±1.5 points, and so on up the scale', () => {
    expect(Math.abs(share(10) - 0.1)).toBeLessThanOrEqual(0.015);
    expect(Math.abs(share(1) - 0.01)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(share(50) - 0.5)).toBeLessThanOrEqual(0.015);
  });

  it('only ever adds devices as the percentage grows', () => {
    const steps = [0, 0.5, 1, 5, 10, 12.5, 25, 50, 75, 99.99, 100];
    const served = steps.map((percent) => new Set(devices.filter((id) => inRollout(id, 'maps', '1.0.0', percent))));
    for (let i = 1; i < served.length; i++) {
      for (const id of served[i - 1]) expect(served[i].has(id)).toBe(true);
      expect(served[i].size).toBeGreaterThanOrEqual(served[i - 1].size);
    }
  });

  it('draws a fresh sample for each release, so the same devices are not always first', () => {
    const first = new Set(devices.filter((id) => inRollout(id, 'maps', '1.0.0', 10)));
    const both = devices.filter((id) => first.has(id) && inRollout(id, 'maps', '1.0.1', 10)).length / devices.length;
    // Independent 10% samples overlap on about 1% of devices, not 10%.
    expect(both).toBeLessThan(0.03);
  });
});
