import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeltaPatchesConfig } from '../config/schema.js';
import type { ManifestFile } from '../protocol/types.js';
import { makeDirectory } from '../make-dir.js';

/**
 * Files of past publishes by SHA-256, beside the config
 * (`.update-publish/content-cache/`): patches need the old content, and this
 * saves reading it back from the store. Safe to delete.
 */
export class ContentCache {
  constructor(private readonly dir: string) {}

  /** Whether a file with this SHA-256 is cached (unchecked: lookup checks). */
  async has(sha256: string): Promise<boolean> {
    return (await stat(join(this.dir, sha256)).catch(() => null)) !== null;
  }

  /** The cached file with this SHA-256, checked; a damaged one is dropped. */
  async lookup(sha256: string): Promise<string | undefined> {
    const path = join(this.dir, sha256);
    const bytes = await readFile(path).catch(() => undefined);
    if (!bytes) return undefined;
    if (createHash('sha256').update(bytes).digest('hex') === sha256) return path;
    await rm(path, { force: true });
    return undefined;
  }

  /**
   * Keeps exactly the files given (a new version's patchable files, and the
   * bases it was patched against): adds what is missing, removes the rest.
   * Adding must cost next to nothing on every publish, so a file is cloned
   * (copy-on-write file systems) or hard-linked, never copied; a linked file
   * edited in place later fails lookup's check and is read from the store.
   */
  async keep(files: { sha256: string; absolutePath?: string }[]): Promise<void> {
    await makeDirectory(this.dir);
    const wanted = new Set(files.map((file) => file.sha256));
    for (const name of await readdir(this.dir)) if (!wanted.has(name)) await rm(join(this.dir, name), { force: true });
    const present = new Set(await readdir(this.dir));
    for (const file of files) {
      if (present.has(file.sha256) || !file.absolutePath) continue;
      present.add(file.sha256);
      const target = join(this.dir, file.sha256);
      await copyFile(file.absolutePath, target, constants.COPYFILE_FICLONE_FORCE).catch(() => link(file.absolutePath!, target).catch(() => {}));
    }
  }
}

/**
 * After a publish: the cache keeps the new version's patchable files (the
 * next publish patches against them) and the base files it holds or just
 * patched against; everything else goes.
 */
export async function keepForNextPublish(
  cache: ContentCache,
  settings: DeltaPatchesConfig,
  current: (ManifestFile & { absolutePath: string })[],
  baseFiles: ManifestFile[],
  patchedBaseSha256s: Set<string>,
): Promise<void> {
  if (!settings.enabled) return;
  const fits = (file: ManifestFile) => file.size >= settings.minFileSize && file.size <= settings.maxFileSize;
  const bases = [];
  for (const file of baseFiles.filter(fits)) if (patchedBaseSha256s.has(file.sha256) || (await cache.has(file.sha256))) bases.push({ sha256: file.sha256 });
  await cache.keep([...current.filter(fits), ...bases]);
}
