/**
 * The device library's public surface stays small (issue 21): an app gets
 * createUpdater and the pure functions it really needs, at most 30 values per
 * entry point; everything else is internal. Grew past it once, unnoticed,
 * when features added exports: this test is what notices.
 */
import { describe, expect, it } from 'vitest';
import * as client from '../../src/client/index.js';
import * as node from '../../src/client/node.js';

const MAX_VALUE_EXPORTS = 30;

describe('device library surface', () => {
  it('update-publish/client exports at most 30 values, createUpdater first among them', () => {
    const names = Object.keys(client);
    expect(names.length, names.join(' ')).toBeLessThanOrEqual(MAX_VALUE_EXPORTS);
    expect(names).toContain('createUpdater');
  });

  it('update-publish/client/node exports at most 30 values, with install and the Node sources', () => {
    const names = Object.keys(node);
    expect(names.length, names.join(' ')).toBeLessThanOrEqual(MAX_VALUE_EXPORTS);
    for (const name of ['createUpdater', 'fetchUpdate', 'httpSource', 's3Source', 'markLaunched', 'rollbackIfUnconfirmed']) expect(names).toContain(name);
    // Its createUpdater is the one that installs.
    expect(node.createUpdater).not.toBe(client.createUpdater);
  });

  it('leaks no protocol internals (keys, constants, helpers the library uses itself)', () => {
    for (const internal of ['channelIndexKey', 'switchesKey', 'SCHEMA_VERSION', 'PATCH_FORMAT', 'canonicalBytes', 'bucketOf', 'newerRoot']) {
      expect(Object.keys(client)).not.toContain(internal);
      expect(Object.keys(node)).not.toContain(internal);
    }
  });
});
