/**
 * Conformance vectors for installing a package: zips written by our packer
 * (full and delta) and hand-made hostile ones, each with the manifest's file
 * list and, for a delta, the installed files it builds on. A client builds
 * the new tree as fetch does and reports it, or refuses.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ManifestFile } from '../../src/protocol/types.js';
import { writeZip } from '../../src/pack/zip.js';
import { storedZip, type StoredZipEntry } from '../helpers/stored-zip.js';
import type { DraftCase, DraftFile } from './vectors-rules.js';

type Tree = Record<string, string | Buffer>;

const bytesOf = (content: string | Buffer) => (typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const entryOf = (path: string, content: string | Buffer): ManifestFile => ({ path, size: bytesOf(content).length, sha256: sha256(bytesOf(content)) });
/** The manifest's file list of a tree (sorted, as manifests are). */
const filesOf = (tree: Tree) => Object.keys(tree).sort().map((path) => entryOf(path, tree[path]));
const base64Tree = (tree: Tree) => Object.fromEntries(Object.keys(tree).sort().map((path) => [path, bytesOf(tree[path]).toString('base64')]));

/** Incompressible bytes from a seed (stored, as a random-looking file is). */
function noise(seed: string, size: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < size; i++) blocks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(blocks).subarray(0, size);
}

/** A zip of these files as `pack` writes it. */
async function packedZip(tree: Tree): Promise<Buffer> {
  const work = await mkdtemp(join(tmpdir(), 'up-vectors-'));
  try {
    const entries = [];
    for (const path of Object.keys(tree).sort()) {
      const absolutePath = join(work, 'files', path);
      await mkdir(dirname(absolutePath), { recursive: true });
      await writeFile(absolutePath, bytesOf(tree[path]));
      entries.push({ ...entryOf(path, tree[path]), absolutePath });
    }
    await writeZip(entries, join(work, 'out.zip'));
    return await readFile(join(work, 'out.zip'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Builds the package cases; `fixture(name, bytes)` stores a zip and returns the path a case names. */
export async function packageVectors(fixture: (name: string, bytes: Buffer) => string): Promise<DraftFile> {
  const cases: DraftCase[] = [];
  const full = (name: string, zip: string, files: ManifestFile[], want?: unknown) => cases.push({ name, check: 'package', kind: 'full', manifest: { files }, package: zip, ...(want !== undefined && { want }) });
  const delta = (name: string, zip: string, installed: Tree, files: ManifestFile[], want?: unknown) =>
    cases.push({ name, check: 'package', kind: 'delta', manifest: { files }, installed: base64Tree(installed), package: zip, ...(want !== undefined && { want }) });
  const refused = { ok: false, error: 'bad-package' };
  const damaged = { ok: false, error: 'damaged-base' };

  const v1: Tree = {
    'a.txt': 'alpha\n'.repeat(20),
    'empty.txt': '',
    'img.png': noise('img', 700),
    'sub/deep/d.json': JSON.stringify({ level: 1, tiles: Array.from({ length: 30 }, (_, i) => i) }),
    'café/naïve.txt': 'Unicode NFC names\n',
    'keep.txt': 'kept as is\n',
    'old/only.txt': 'removed in 1.0.1\n',
    'data/x.txt': 'a folder in 1.0.0\n',
    'cfg': 'a file in 1.0.0\n',
  };
  const v1Zip = fixture('full-1.0.0.zip', await packedZip(v1));
  full('packer output: deflated text, stored binary, empty file, nested and NFC names', v1Zip, filesOf(v1), { ok: true, folders: ['café', 'data', 'old', 'sub', 'sub/deep'] });

  // 1.0.1: a.txt changed, new.txt added, old/only.txt removed (its folder emptied), data/ became a file, cfg became a folder.
  const v2: Tree = { ...v1, 'a.txt': 'alpha, second edition\n', 'new.txt': 'november\n', data: 'a file in 1.0.1\n', 'cfg/x.json': '{"now":"a folder"}' };
  delete v2['old/only.txt'];
  delete v2['data/x.txt'];
  delete v2.cfg;
  const changed = ['a.txt', 'cfg/x.json', 'data', 'new.txt'];
  const deltaZip = fixture('delta-1.0.1-from-1.0.0.zip', await packedZip(Object.fromEntries(changed.map((path) => [path, v2[path]]))));
  delta('delta: changed and added files from the zip, the rest from the installed copy; a folder became a file, a file a folder, emptied folders are gone', deltaZip, v1, filesOf(v2), {
    ok: true,
    folders: ['café', 'cfg', 'sub', 'sub/deep'],
  });
  delta('delta over an installed copy holding files the manifest does not list: they are not carried over', deltaZip, { ...v1, 'user-notes.txt': 'written by the app' }, filesOf(v2), { ok: true });

  const pruneZip = fixture('delta-prune.zip', await packedZip({}));
  const kept: Tree = { 'keep.txt': v1['keep.txt'] };
  delta('delta that only removes: an empty zip, and no folder is left behind', pruneZip, { 'keep.txt': v1['keep.txt'], 'old/only.txt': 'x', 'old/deeper/y.txt': 'y' }, filesOf(kept), { ok: true, files: { 'keep.txt': sha256(bytesOf(v1['keep.txt'])) }, folders: [] });
  delta('installed file changed by the app: the base is damaged (install the full package instead)', deltaZip, { ...v1, 'keep.txt': 'edited\n' }, filesOf(v2), damaged);
  const { 'keep.txt': _missing, ...withoutKeep } = v1;
  delta('installed file missing: the base is damaged', deltaZip, withoutKeep, filesOf(v2), damaged);
  delta('a delta entry whose content is not what the manifest lists', deltaZip, v1, filesOf({ ...v2, 'new.txt': 'something else\n' }), refused);

  const { 'img.png': _dropped, ...withoutImage } = v1;
  full('the manifest does not list an entry of the zip', v1Zip, filesOf(withoutImage), refused);
  full('the zip lacks a file the manifest lists', v1Zip, filesOf({ ...v1, 'extra.txt': 'x' }), refused);
  full('an entry\'s content differs from the manifest\'s SHA-256', v1Zip, filesOf({ ...v1, 'a.txt': 'alpha\n'.repeat(19) + 'alphA\n' }), refused);
  full('an entry\'s size differs from the manifest\'s', v1Zip, filesOf({ ...v1, 'keep.txt': 'kept as is, longer\n' }), refused);
  full('not a zip', fixture('not-a-zip.zip', noise('not a zip', 200)), filesOf({ 'a.txt': 'x' }), refused);

  const hostile = (name: string, file: string, entries: StoredZipEntry[], listed: Tree) => full(name, fixture(file, storedZip(entries)), filesOf(listed), refused);
  const plain: Tree = { 'a.txt': 'hello\n' };
  hostile('an entry climbing out with ..', 'hostile-dotdot.zip', [{ name: 'a.txt', data: 'hello\n' }, { name: '../evil.txt', data: 'x' }], { ...plain, '../evil.txt': 'x' });
  hostile('an absolute entry path', 'hostile-absolute.zip', [{ name: '/tmp/evil.txt', data: 'x' }], { '/tmp/evil.txt': 'x' });
  hostile('a backslash in an entry name', 'hostile-backslash.zip', [{ name: 'sub\\evil.txt', data: 'x' }], { 'sub\\evil.txt': 'x' });
  hostile('a "." segment', 'hostile-dot.zip', [{ name: './a.txt', data: 'hello\n' }], { './a.txt': 'hello\n' });
  hostile('an empty segment', 'hostile-empty-segment.zip', [{ name: 'sub//a.txt', data: 'hello\n' }], { 'sub//a.txt': 'hello\n' });
  hostile('a folder entry (packages have none)', 'hostile-folder-entry.zip', [{ name: 'sub/', data: '' }, { name: 'sub/a.txt', data: 'hello\n' }], { 'sub/a.txt': 'hello\n' });
  hostile('the same entry twice', 'hostile-duplicate.zip', [{ name: 'a.txt', data: 'hello\n' }, { name: 'a.txt', data: 'hello\n' }], plain);
  hostile('a control character in a name', 'hostile-control.zip', [{ name: 'a\u0007.txt', data: 'hello\n' }], { 'a\u0007.txt': 'hello\n' });
  hostile('a symbolic link entry (never created; its target text is not the listed file)', 'hostile-symlink.zip', [{ name: 'link', data: '/etc/passwd', mode: 0o120777 }], { link: 'the file the manifest lists\n' });
  hostile('a deflate bomb: an entry whose headers declare the listed 1-byte file but which inflates to 64 MiB (refused without writing past 1 byte)', 'hostile-deflate-bomb.zip', [{ name: 'a.txt', data: Buffer.alloc(64 * 1024 * 1024), deflatedAs: 1 }], { 'a.txt': 'x' });
  hostile('a symbolic link entry whose target text is exactly the listed file (refused as a link, never written as a file)', 'hostile-symlink-listed.zip', [{ name: 'link', data: '/etc/passwd', mode: 0o120777 }], { link: '/etc/passwd' });
  return {
    name: 'packages.json',
    description:
      'Installing a package: build a fresh tree holding exactly the files `manifest.files` lists: a full package supplies all of them; a delta supplies the added and changed ones and the rest are copied from the installed copy (`installed`, path → base64). Every file is checked against its size and SHA-256; nothing else is carried over, so removed files and emptied folders are gone and a folder may become a file or a file a folder. Entry names must be plain relative POSIX paths (no "..", ".", empty segments, leading "/", backslashes or control characters), each listed once; no folder or link entries. Expect the tree (files: path → SHA-256, folders: every folder) or a refusal: bad-package (the package is wrong: do not install it) or damaged-base (an installed file is missing or changed: install the full package instead).',
    cases,
  };
}
