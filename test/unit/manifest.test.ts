import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type ManifestFile } from '../../src/protocol/types.js';
import { buildManifest, contentSha256, serializeDocument } from '../../src/protocol/manifest.js';

const files: ManifestFile[] = [
  { path: 'a.txt', size: 1, sha256: 'aa' },
  { path: 'dir/b.png', size: 20, sha256: 'bb' },
];

describe('contentSha256', () => {
  it('is a stable hex SHA-256 of the file list', () => {
    expect(contentSha256(files)).toMatch(/^[0-9a-f]{64}$/);
    expect(contentSha256(files.map((file) => ({ ...file })))).toBe(contentSha256(files));
  });

  it.each([
    ['a path', { path: 'A.txt' }],
    ['a size', { size: 2 }],
    ['a file hash', { sha256: 'ab' }],
  ])('changes when %s changes', (_, change) => {
    expect(contentSha256([{ ...files[0], ...change }, files[1]])).not.toBe(contentSha256(files));
  });

  it('changes when a file is added or removed', () => {
    expect(contentSha256(files.slice(0, 1))).not.toBe(contentSha256(files));
    expect(contentSha256([])).not.toBe(contentSha256(files));
  });
});

describe('buildManifest', () => {
  it('holds schema version, id, version, creation time, content hash and the files; not the version in the hash', () => {
    const full = { key: 'packages/maps/1.0.0/full.zip', size: 100, sha256: 'ff' };
    const manifest = buildManifest({ id: 'maps', version: '1.0.0', createdAt: '2025-01-01T00:00:00.000Z', files, full, deltas: [] });
    expect(manifest).toEqual({
      schemaVersion: SCHEMA_VERSION,
      id: 'maps',
      version: '1.0.0',
      createdAt: '2025-01-01T00:00:00.000Z',
      contentSha256: contentSha256(files),
      files,
      full,
      deltas: [],
    });
    const later = buildManifest({ id: 'maps', version: '2.0.0', createdAt: '2026-01-01T00:00:00.000Z', files, full, deltas: [] });
    expect(later.contentSha256).toBe(manifest.contentSha256);
  });

  it('serialises as one JSON document ending in a newline', () => {
    const document = { a: 1, b: ['x', { c: null }] };
    const body = serializeDocument(document).toString('utf8');
    expect(JSON.parse(body)).toEqual(document);
    expect(body.endsWith('}\n')).toBe(true);
  });
});
