import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseS3Url } from '../../src/config/s3-url.js';

describe('parseS3Url', () => {
  it.each([
    ['s3://releases', { bucket: 'releases', prefix: '' }],
    ['s3://releases/', { bucket: 'releases', prefix: '' }],
    ['s3://my.releases-2/apps/game/', { bucket: 'my.releases-2', prefix: 'apps/game' }],
    ['S3://releases/a', { bucket: 'releases', prefix: 'a' }],
  ])('%s → %o', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it.each([
    ['https://releases/a', /is not an S3 URL: write it as s3:\/\/bucket\/prefix$/],
    ['s3://', /invalid bucket ''/],
    ['s3://ab', /invalid bucket 'ab'/],
    ['s3://Releases/a', /invalid bucket 'Releases'/],
    ['s3://my_releases', /invalid bucket 'my_releases'/],
    ['s3://-releases', /invalid bucket '-releases'/],
    ['s3://my..releases', /invalid bucket 'my..releases'/],
    ['s3://192.168.1.10', /invalid bucket '192.168.1.10'/],
    [`s3://${'a'.repeat(64)}`, /invalid bucket/],
    ['s3://releases/a//b', /invalid prefix 'a\/\/b'/],
    ['s3://releases/a/../b', /invalid prefix 'a\/..\/b'/],
    ['s3://releases/a?versionId=1', /invalid prefix/],
  ])('rejects %s with a usage error', (url, message) => {
    let caught: unknown;
    try {
      parseS3Url(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).exitCode).toBe(2);
    expect((caught as UserError).message).toMatch(message);
  });
});
