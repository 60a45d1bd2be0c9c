import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertSafeEntryPath, isSymlinkEntry, safeJoin, UnsafePathError } from '../../src/protocol/path-safety.js';

const safe = ['index.json', 'maps/level-1/tiles.bin', '..hidden', 'a..b/c', '.well-known/x', 'ünïcode/日本.txt', 'a b/c d.png'];

const unsafe: [string, RegExp][] = [
  ['', /empty/],
  ['/etc/passwd', /absolute/],
  ['../outside.txt', /"\.\." segment/],
  ['maps/../../outside.txt', /"\.\." segment/],
  ['maps/..', /"\.\." segment/],
  ['./index.json', /"\." segment/],
  ['C:/Windows/system.ini', /drive letter/],
  ['c:relative.txt', /drive letter/],
  ['maps\\..\\..\\evil', /backslash/],
  ['maps\\level.json', /backslash/],
  ['maps//level.json', /empty segment/],
  ['maps/', /empty segment/],
  ['maps/level\u0000.json', /control character/],
  ['maps/\nlevel.json', /control character/],
  ['maps/level\u007f', /control character/],
  ['maps/level\u009b', /control character/],
];

describe('assertSafeEntryPath', () => {
  it.each(safe)('accepts %j', (entry) => {
    expect(() => assertSafeEntryPath(entry)).not.toThrow();
  });

  it.each(unsafe)('refuses %j', (entry, why) => {
    expect(() => assertSafeEntryPath(entry)).toThrow(UnsafePathError);
    expect(() => assertSafeEntryPath(entry)).toThrow(why);
  });

  it('keeps the message on one printable line', () => {
    try {
      assertSafeEntryPath('evil\n\u001b[31m\u009b31mred');
      expect.fail('should throw');
    } catch (error) {
      expect((error as Error).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect((error as Error).message).toContain('"evil\\n\\u001b[31m\\u009b31mred"');
      expect((error as UnsafePathError).entryPath).toBe('evil\n\u001b[31m\u009b31mred');
    }
  });
});

describe('safeJoin', () => {
  const root = path.resolve('/srv/install/maps');

  it('resolves a safe entry inside the root', () => {
    expect(safeJoin(root, 'level-1/tiles.bin')).toBe(path.join(root, 'level-1', 'tiles.bin'));
    expect(safeJoin(`${root}${path.sep}`, '..hidden')).toBe(path.join(root, '..hidden'));
    expect(safeJoin('relative/root', 'a.txt')).toBe(path.resolve('relative/root', 'a.txt'));
  });

  it.each(unsafe)('refuses %j', (entry) => {
    expect(() => safeJoin(root, entry)).toThrow(UnsafePathError);
  });
});

describe('isSymlinkEntry', () => {
  const unixMode = (mode: number) => (mode << 16) >>> 0;

  it('detects symlink modes and nothing else', () => {
    expect(isSymlinkEntry(unixMode(0o120777))).toBe(true);
    expect(isSymlinkEntry(unixMode(0o100644))).toBe(false);
    expect(isSymlinkEntry(unixMode(0o040755))).toBe(false);
    expect(isSymlinkEntry(0)).toBe(false); // zips made on Windows carry no Unix mode
  });
});
