import { join } from 'node:path';
import type { Output } from '../cli/output.js';
import { formatBytes } from '../cli/format.js';
import type { PackageConfig } from '../config/schema.js';
import { HashCache } from '../pack/hash-cache.js';
import { hashFiles, type PackageFile } from '../pack/hash-files.js';
import { scanPackage } from '../pack/scan.js';

/** Local, per project: delete it any time; it only saves re-reading unchanged files. */
export const HASH_CACHE_DIR = '.update-publish/hash-cache';

/** Scans and hashes one package's folder, with progress. */
export async function readPackageFiles(
  id: string,
  packageConfig: PackageConfig,
  configDir: string,
  output: Output,
): Promise<PackageFile[]> {
  const scanned = await scanPackage(id, packageConfig, configDir);
  const totalBytes = scanned.reduce((sum, file) => sum + file.size, 0);
  const step = output.step(`${id}: hashing ${scanned.length} files (${formatBytes(totalBytes)})`);
  const cache = await HashCache.load(join(configDir, HASH_CACHE_DIR, `${id}.json`));
  const files = await hashFiles(scanned, cache, (done) =>
    step.update(`${id}: hashing ${formatBytes(done)} / ${formatBytes(totalBytes)}`),
  );
  await cache.save(scanned);
  step.succeed(`${id}: ${scanned.length} files, ${formatBytes(totalBytes)}`);
  return files;
}
