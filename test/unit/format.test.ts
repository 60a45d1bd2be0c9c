import { describe, expect, it } from 'vitest';
import { formatBytes, formatProgress, plural } from '../../src/format.js';

describe('formatBytes', () => {
  it('labels binary units as such (a MiB is 1,048,576 bytes)', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1024 * 1024)).toBe('1.0 MiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});

describe('formatProgress', () => {
  const MiB = 1024 * 1024;
  it('shows bytes, share, rate and the time left once the rate says something', () => {
    expect(formatProgress(30 * MiB, 300 * MiB, 0, 10_000)).toBe('30 MiB / 300 MiB (10%, 3.0 MiB/s, 1 min 30 s left)');
    expect(formatProgress(0, 300 * MiB, 0, 100)).toBe('0 B / 300 MiB (0%)');
    expect(formatProgress(300 * MiB, 300 * MiB, 0, 10_000)).toBe('300 MiB / 300 MiB (100%, 30 MiB/s)');
  });
});

describe('plural', () => {
  it('says "1 file", "2 files"', () => {
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(2, 'file')).toBe('2 files');
    expect(plural(0, 'release')).toBe('0 releases');
  });
});
