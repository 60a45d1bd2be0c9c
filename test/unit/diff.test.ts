import { describe, expect, it } from 'vitest';
import type { ManifestFile } from '../../src/protocol/types.js';
import { countChanges, diffFiles, hasChanges } from '../../src/release/diff.js';

const file = (path: string, sha256: string, size = 1): ManifestFile => ({ path, size, sha256 });

describe('diffFiles', () => {
  it('sorts files into added, changed and removed by path and SHA-256', () => {
    const previous = [file('a.txt', '1'), file('b.txt', '2'), file('c.txt', '3')];
    const current = [file('a.txt', '1'), file('b.txt', '22'), file('d.txt', '4')];
    const changes = diffFiles(previous, current);
    expect(changes.added.map((f) => f.path)).toEqual(['d.txt']);
    expect(changes.changed.map((f) => f.path)).toEqual(['b.txt']);
    expect(changes.removed.map((f) => f.path)).toEqual(['c.txt']);
    expect(countChanges(changes)).toEqual({ added: 1, changed: 1, removed: 1 });
    expect(hasChanges(changes)).toBe(true);
  });

  it('reports the new entry (size and hash) for a changed file', () => {
    const changes = diffFiles([file('a.txt', 'old', 3)], [file('a.txt', 'new', 7)]);
    expect(changes.changed).toEqual([file('a.txt', 'new', 7)]);
  });

  it('treats a first version as all added and identical lists as no change', () => {
    const files = [file('a.txt', '1'), file('dir/b.txt', '2')];
    expect(countChanges(diffFiles([], files))).toEqual({ added: 2, changed: 0, removed: 0 });
    const same = diffFiles(files, files.map((f) => ({ ...f })));
    expect(hasChanges(same)).toBe(false);
  });

  it('sees a rename as one removal and one addition', () => {
    const changes = diffFiles([file('old.txt', 'x')], [file('new.txt', 'x')]);
    expect(countChanges(changes)).toEqual({ added: 1, changed: 0, removed: 1 });
  });

  it('compares paths exactly: case matters', () => {
    const changes = diffFiles([file('A.txt', 'x')], [file('a.txt', 'x')]);
    expect(changes.added.map((f) => f.path)).toEqual(['a.txt']);
    expect(changes.removed.map((f) => f.path)).toEqual(['A.txt']);
  });
});
