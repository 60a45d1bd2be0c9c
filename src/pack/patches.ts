import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { DeltaPatchesConfig } from '../config/schema.js';
import type { FilePatch, Manifest } from '../protocol/types.js';
import type { BaseContent } from './base-content.js';
import type { PackageFile } from './hash-files.js';
import { makeDirectory } from '../make-dir.js';

/** A patch written to the staging folder, to go into the patched delta in place of the whole file. */
export interface StagedPatch extends FilePatch {
  localPath: string;
  size: number;
  sha256: string;
}

/**
 * zstd levels whose window and match search reach cover a file of this size:
 * the old file sits in front of the new one, so a match for any byte lies
 * about one file length back. 19 searches 8 MiB back, each level above twice
 * as far (22: 64 MiB, window 2^27, the most decoders accept by default).
 */
export function patchLevel(span: number): number {
  const MiB = 1024 * 1024;
  return span <= 8 * MiB ? 19 : span <= 16 * MiB ? 20 : span <= 32 * MiB ? 21 : 22;
}

/** Files above this compress alone: level 21–22 state takes over a gigabyte. */
const ALONE_ABOVE = 8 * 1024 * 1024;

/**
 * Patches for the changed files of one delta that are worth it: at least
 * minFileSize, at most maxFileSize (old and new), and kept only when the
 * patch is at most maxRatio of what the whole file takes in the delta
 * (`packedSizes`, by path). Old content comes from `baseContent`; a file it
 * cannot give goes in whole.
 */
export async function buildPatches(options: {
  files: PackageFile[];
  base: Manifest;
  packedSizes: Map<string, number>;
  settings: DeltaPatchesConfig;
  baseContent: BaseContent;
  dir: string;
}): Promise<StagedPatch[]> {
  const { settings, base } = options;
  const baseFiles = new Map(base.files.map((file) => [file.path, file]));
  const fits = (size: number) => size >= settings.minFileSize && size <= settings.maxFileSize;
  const candidates = options.files.filter((file) => {
    const old = baseFiles.get(file.path);
    return old !== undefined && old.sha256 !== file.sha256 && fits(file.size) && old.size <= settings.maxFileSize;
  });
  if (candidates.length === 0) return [];
  const oldPaths = await options.baseContent.fetch(base, candidates.map((file) => baseFiles.get(file.path)!));
  await makeDirectory(options.dir);

  const patchOne = async (file: PackageFile, index: number): Promise<StagedPatch | undefined> => {
    const oldPath = oldPaths.get(file.path);
    if (!oldPath) return undefined;
    const old = baseFiles.get(file.path)!;
    const [oldBytes, newBytes] = await Promise.all([readFile(oldPath), readFile(file.absolutePath)]);
    // The new file must still be the one the manifest lists (it was hashed before packing).
    if (sha256Of(newBytes) !== file.sha256 || sha256Of(oldBytes) !== old.sha256) return undefined;
    // zstd would read an old file starting with its dictionary magic as a trained dictionary, not as content.
    if (oldBytes.length >= 4 && oldBytes.readUInt32LE(0) === ZSTD_DICTIONARY_MAGIC) return undefined;
    const patch = await makePatch(oldBytes, newBytes);
    if (patch.length > settings.maxRatio * (options.packedSizes.get(file.path) ?? file.size)) return undefined;
    const localPath = join(options.dir, `${index}.zst`);
    await writeFile(localPath, patch);
    return { path: file.path, baseSize: old.size, baseSha256: old.sha256, localPath, size: patch.length, sha256: sha256Of(patch) };
  };

  const limit = pLimit(availableParallelism());
  const results: (StagedPatch | undefined)[] = [];
  // Large files one at a time, then the rest a core each: memory stays that of one large compression.
  for (const [index, file] of candidates.entries()) if (file.size > ALONE_ABOVE) results[index] = await patchOne(file, index);
  await Promise.all(
    candidates.map(async (file, index) => {
      if (file.size <= ALONE_ABOVE) results[index] = await limit(() => patchOne(file, index));
    }),
  );
  return results.filter((patch): patch is StagedPatch => patch !== undefined);
}

/** The zstd frame that turns oldBytes into newBytes: `zstd -d --patch-from=OLD` decodes it. */
export async function makePatch(oldBytes: Buffer, newBytes: Buffer): Promise<Buffer> {
  // Loaded on first use: only publishes with patches need the native binding.
  const { Encoder } = (await import('@toondepauw/node-zstd')).default;
  return new Encoder(patchLevel(Math.max(oldBytes.length, newBytes.length)), oldBytes).encode(newBytes);
}

const ZSTD_DICTIONARY_MAGIC = 0xec30a437;
const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
