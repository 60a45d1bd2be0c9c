import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { FIRST_VERSION, nextVersion } from '../../src/release/version.js';

describe('nextVersion', () => {
  it('starts at 1.0.0, or at --version', () => {
    expect(nextVersion('maps', [], {})).toBe(FIRST_VERSION);
    expect(FIRST_VERSION).toBe('1.0.0');
    expect(nextVersion('maps', [], { version: '0.3.0' })).toBe('0.3.0');
    expect(nextVersion('maps', [], { bump: 'major' })).toBe('1.0.0');
  });

  it('bumps the highest stored version, whatever order they come in (patch by default)', () => {
    const stored = ['1.0.0', '1.10.0', '1.9.3', '1.2.0'];
    expect(nextVersion('maps', stored, {})).toBe('1.10.1');
    expect(nextVersion('maps', stored, { bump: 'patch' })).toBe('1.10.1');
    expect(nextVersion('maps', stored, { bump: 'minor' })).toBe('1.11.0');
    expect(nextVersion('maps', stored, { bump: 'major' })).toBe('2.0.0');
    expect(nextVersion('maps', stored, { bump: 'prerelease' })).toBe('1.10.1-0');
    expect(nextVersion('maps', ['2.0.0-0'], { bump: 'prerelease' })).toBe('2.0.0-1');
  });

  it('does not mutate the list it is given', () => {
    const stored = ['1.0.0', '3.0.0', '2.0.0'];
    nextVersion('maps', stored, {});
    expect(stored).toEqual(['1.0.0', '3.0.0', '2.0.0']);
  });

  it('accepts an explicit version above the highest and normalises it', () => {
    expect(nextVersion('maps', ['1.0.0', '1.4.0'], { version: '1.4.1' })).toBe('1.4.1');
    expect(nextVersion('maps', ['1.0.0'], { version: '2.0.0-beta.1' })).toBe('2.0.0-beta.1');
  });

  it.each([
    ['not semver', '1.2', /not valid semver/],
    ['equal to the highest', '1.4.0', /must be greater than 1\.4\.0/],
    ['below the highest', '1.3.9', /must be greater than 1\.4\.0/],
    ['a prerelease of the highest', '1.4.0-rc.1', /must be greater than 1\.4\.0/],
  ])('refuses an explicit version %s', (_, version, message) => {
    const attempt = () => nextVersion('maps', ['1.0.0', '1.4.0'], { version });
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(message);
  });
});
