import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, lstat, open, realpath } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import type { ZipFile } from 'yauzl';
import { assertSafeEntryPath, isSymlinkEntry, safeJoin, UnsafePathError } from '../../protocol/path-safety.js';
import type { FilePatch, Manifest, ManifestFile } from '../../protocol/types.js';
import { applyPatch } from './apply-patch.js';
import { writeBytesHashed, writeHashed } from './hashed-write.js';
import { DamagedBaseError, IntegrityError, ProtocolError } from '../errors.js';
import { makeDirectory } from '../../make-dir.js';

/** The package a tree is built from: a full package alone, or a delta over the installed copy in baseDir. */
export type TreePackage =
  | { kind: 'full'; zipPath: string; objectKey: string }
  /**
   * `patches`: entries of a patched delta that are patches against the base's file at the same path.
   * `linkUnchanged`: the files taken from the base are hard links to its files (checked all the same),
   * not copies: for when the base is deleted once the new tree is in, so no file is ever shared by two live trees.
   */
  | { kind: 'delta'; zipPath: string; objectKey: string; baseDir: string; patches?: FilePatch[]; linkUnchanged?: boolean };

/**
 * Builds in treeDir (a fresh folder) exactly the files the manifest lists:
 * the package's entries, and for a delta every other file copied from the
 * base. Each file is checked against the manifest's size and SHA-256 as it is
 * written, so a damaged package or a wrong base can never yield a wrong tree;
 * files the manifest no longer lists are simply not carried over.
 */
export async function buildTree(manifest: Manifest, pkg: TreePackage, treeDir: string, onBytes?: (bytes: number) => void): Promise<void> {
  await makeDirectory(treeDir);
  const expected = new Map(manifest.files.map((file) => [file.path, file]));
  const patching = pkg.kind === 'delta' && pkg.patches?.length ? { realBase: await realpath(pkg.baseDir), patches: new Map(pkg.patches.map((patch) => [patch.path, patch])) } : undefined;
  const extracted = await extractPackage(pkg.zipPath, pkg.objectKey, expected, treeDir, patching, onBytes);
  const rest = manifest.files.filter((file) => !extracted.has(file.path));
  if (pkg.kind === 'full') {
    if (rest.length > 0) throw new IntegrityError(pkg.objectKey, `lacks ${rest.length} ${rest.length === 1 ? 'file' : 'files'} the manifest lists, e.g. ${JSON.stringify(rest[0].path)}`);
    return;
  }
  const realBase = await realpath(pkg.baseDir);
  for (const file of rest) await copyFromBase(realBase, file, safeJoin(treeDir, file.path), pkg.linkUnchanged ?? false, onBytes);
}

/** Bytes per read when checking a linked file. */
const HASH_READ_SIZE = 1024 * 1024;

/** Entries extracted at the same time: enough to keep the disk and zlib's threads busy between small files. */
const ENTRIES_WRITTEN_AT_ONCE = 8;

/** Extracts every entry of a package zip into dir; returns the paths extracted. */
async function extractPackage(
  zipPath: string,
  objectKey: string,
  expected: ReadonlyMap<string, ManifestFile>,
  dir: string,
  patching: { realBase: string; patches: ReadonlyMap<string, FilePatch> } | undefined,
  onBytes: ((bytes: number) => void) | undefined,
): Promise<Set<string>> {
  const extracted = new Set<string>();
  let zip: ZipFile;
  let packageZip: typeof import('./package-zip.js');
  try {
    // Loaded on first use: most commands never unzip.
    packageZip = await import('./package-zip.js');
    // strictFileNames: a backslash stays a backslash (and is refused), never a folder separator.
    zip = await packageZip.openPackageZip(zipPath, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true });
  } catch (error) {
    throw new IntegrityError(objectKey, `is not a readable zip (${(error as Error).message})`);
  }
  // Entries are written several at a time: one at a time, each small file waited on its open, write and close in turn.
  const writing = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const startWriting = (work: Promise<void>) => {
    const task = work.catch((error: unknown) => void (failure ??= { error })).finally(() => writing.delete(task));
    writing.add(task);
  };
  try {
    for await (const entry of zip.eachEntry()) {
      if (failure) break;
      const name = entry.fileName;
      assertSafeEntryPath(name);
      if (isSymlinkEntry(entry.externalFileAttributes)) throw new UnsafePathError(name, 'it is a symbolic link');
      const file = expected.get(name);
      if (!file) throw new IntegrityError(objectKey, `holds ${JSON.stringify(name)}, which the manifest does not list`);
      if (extracted.has(name)) throw new IntegrityError(objectKey, `holds ${JSON.stringify(name)} twice`);
      extracted.add(name);
      const listing = patching?.patches.get(name);
      if (listing && !entry.isEncrypted()) {
        startWriting(
          (async () => {
            const patch = await zip.openReadStreamPromise(entry);
            await applyPatch({ objectKey, patch, listing, file, realBase: patching!.realBase, target: safeJoin(dir, name) });
            onBytes?.(file.size);
          })(),
        );
      } else {
        if (entry.uncompressedSize !== file.size || entry.isEncrypted()) {
          throw new IntegrityError(objectKey, `entry ${JSON.stringify(name)} is not the ${file.size}-byte file the manifest lists`);
        }
        startWriting(
          (async () => {
            const target = safeJoin(dir, name);
            const small = entry.compressedSize <= packageZip.WHOLE_ENTRY_SIZE && entry.uncompressedSize <= packageZip.WHOLE_ENTRY_SIZE;
            const { size, sha256 } = small
              ? await writeBytesHashed(await packageZip.readSmallEntry(zip, entry), target)
              : await writeHashed(await zip.openReadStreamPromise(entry), target, undefined, onBytes);
            if (small) onBytes?.(size);
            if (size !== file.size || sha256 !== file.sha256) {
              throw new IntegrityError(objectKey, `entry ${JSON.stringify(name)} does not match the manifest's SHA-256`);
            }
          })(),
        );
      }
      while (writing.size >= ENTRIES_WRITTEN_AT_ONCE) await Promise.race(writing);
    }
    await Promise.all(writing);
    if (failure) throw failure.error;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    // yauzl's own findings (bad names, sizes, CRC) and a colliding name (EEXIST) mean a bad package.
    throw new IntegrityError(objectKey, `is not a valid package zip (${(error as Error).message})`);
  } finally {
    // Entries under way read from the zip: they end before it closes.
    await Promise.allSettled(writing);
    zip.close();
  }
  return extracted;
}

/**
 * Copies one unchanged file from the installed copy (or links it: no byte
 * written, and still every byte read and checked), refusing anything but a
 * regular file inside it.
 */
async function copyFromBase(realBase: string, file: ManifestFile, target: string, linkUnchanged: boolean, onBytes?: (bytes: number) => void): Promise<void> {
  const source = safeJoin(realBase, file.path);
  const stats = await lstat(source).catch(() => null);
  if (!stats?.isFile()) throw new DamagedBaseError(file.path, stats ? 'is not a regular file' : 'is missing');
  // A symlinked parent folder would read from elsewhere: only real paths inside the base count.
  if (!(await realpath(source)).startsWith(realBase + sep)) throw new DamagedBaseError(file.path, 'lies behind a symbolic link');
  const linked = linkUnchanged && (await linkExclusive(source, target));
  // A link is checked after it is made, so what was checked is what the new tree holds.
  const { size, sha256 } = linked ? await hashFile(target, onBytes) : await writeHashed(createReadStream(source), target, undefined, onBytes);
  if (size !== file.size || sha256 !== file.sha256) throw new DamagedBaseError(file.path, 'was changed since it was installed');
}

/** Hard-links source at target (making its folder when missing); false where the file system cannot (then it is copied). */
async function linkExclusive(source: string, target: string): Promise<boolean> {
  const attempt = () => link(source, target).then(() => true);
  try {
    return await attempt();
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') {
      await makeDirectory(dirname(target));
      return attempt().catch(() => false);
    }
    if (code === 'EEXIST') throw error;
    return false; // EXDEV, EPERM, ENOTSUP, EMLINK…: copy instead
  }
}

/** Size and SHA-256 of a file, read in 1 MiB reads. */
async function hashFile(path: string, onBytes?: (bytes: number) => void): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(HASH_READ_SIZE);
  let size = 0;
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
      onBytes?.(bytesRead);
    }
  } finally {
    await handle.close();
  }
  return { size, sha256: hash.digest('hex') };
}
