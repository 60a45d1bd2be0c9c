import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import type { Output } from '../cli/output.js';
import { formatBytes } from '../format.js';
import type { PackageConfig } from '../config/schema.js';
import { HashCache } from '../pack/hash-cache.js';
import { hashFiles, type PackageFile } from '../pack/hash-files.js';
import { scanPackage } from '../pack/scan.js';

/** The tool's local state beside the config; never part of a package. */
const LOCAL_STATE_DIR = '.update-publish';
/** Local, per project: delete it any time; it only saves re-reading unchanged files. */
export const HASH_CACHE_DIR = `${LOCAL_STATE_DIR}/hash-cache`;

/**
 * Excludes the local state folder when the package folder holds it (dir "."):
 * packed, the cache would change the content on every run.
 */
function withoutLocalState(packageConfig: PackageConfig, configDir: string): PackageConfig {
  const inside = relative(resolve(configDir, packageConfig.dir), join(configDir, LOCAL_STATE_DIR));
  if (inside.startsWith('..') || isAbsolute(inside)) return packageConfig;
  return { ...packageConfig, exclude: [...packageConfig.exclude, `${fg.escapePath(inside.split(sep).join('/'))}/**`] };
}

/** Scans and hashes one package's folder, with progress. */
export async function readPackageFiles(
  id: string,
  packageConfig: PackageConfig,
  configDir: string,
  output: Output,
  { saveCache = true } = {},
): Promise<PackageFile[]> {
  const scanned = await scanPackage(id, withoutLocalState(packageConfig, configDir), configDir);
  const totalBytes = scanned.reduce((sum, file) => sum + file.size, 0);
  const step = output.step(`${id}: hashing ${scanned.length} files (${formatBytes(totalBytes)})`);
  const cache = await HashCache.load(join(configDir, HASH_CACHE_DIR, `${id}.json`));
  const files = await hashFiles(scanned, cache, (done) =>
    step.update(`${id}: hashing ${formatBytes(done)} / ${formatBytes(totalBytes)}`),
  );
  if (saveCache) await cache.save(scanned);
  step.succeed(`${id}: ${scanned.length} files, ${formatBytes(totalBytes)}`);
  return files;
}
