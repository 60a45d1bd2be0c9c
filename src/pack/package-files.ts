import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { runStep, type Output } from '../output.js';
import { formatBytes, formatProgress, plural } from '../format.js';
import type { PackageConfig } from '../config/schema.js';
import { ContentCache } from './content-cache.js';
import { HashCache } from './hash-cache.js';
import { hashFiles, type FileToPack, type PackageFile } from './hash-files.js';
import { scanPackage } from './scan.js';
import type { Store } from '../store/store.js';

/** The tool's local state beside the config; never part of a package. */
const LOCAL_STATE_DIR = '.update-publish';
/** Local, per project: delete it any time; it only saves re-reading unchanged files. */
export const HASH_CACHE_DIR = `${LOCAL_STATE_DIR}/hash-cache`;
/** Local, per project: old content for patches, so a publish need not read it back from the store. Safe to delete. */
export const CONTENT_CACHE_DIR = `${LOCAL_STATE_DIR}/content-cache`;

export const contentCacheFor = (configDir: string, id: string) => new ContentCache(join(configDir, CONTENT_CACHE_DIR, id));

/**
 * Excludes the tool's own folders when a package folder holds them (e.g. dir
 * "."): the local state and a folder store. Packed, they would change the
 * content on every run.
 */
function withoutToolFolders(packageConfig: PackageConfig, configDir: string, folders: string[]): PackageConfig {
  const packageDir = resolve(configDir, packageConfig.dir);
  const excluded = folders
    .map((folder) => relative(packageDir, folder))
    .filter((inside) => inside !== '' && !inside.startsWith('..') && !isAbsolute(inside))
    .map((inside) => `${fg.escapePath(inside.split(sep).join('/'))}/**`);
  return excluded.length === 0 ? packageConfig : { ...packageConfig, exclude: [...packageConfig.exclude, ...excluded] };
}

type ReadContext = { configDir: string; store: Store; output: Output; signal?: AbortSignal };

/** Lists a package's files (without the tool's own folders) and loads its hash cache. */
async function scanWithCache(id: string, packageConfig: PackageConfig, { configDir, store, output }: ReadContext, useCache: boolean) {
  // A folder store's location is its absolute path; an S3 store's is a URL.
  const toolFolders = [join(configDir, LOCAL_STATE_DIR), ...(isAbsolute(store.location) ? [store.location] : [])];
  const scanned = await scanPackage(id, withoutToolFolders(packageConfig, configDir, toolFolders), configDir, (line) => output.warn(line));
  const totalBytes = scanned.reduce((sum, file) => sum + file.size, 0);
  const cache = await HashCache.load(join(configDir, HASH_CACHE_DIR, `${id}.json`), !useCache);
  return { scanned, totalBytes, cache };
}

const describeFiles = (count: number, bytes: number) => `${plural(count, 'file')}, ${formatBytes(bytes)}`;

/** Scans and hashes one package's folder, with progress. */
export async function readPackageFiles(
  id: string,
  packageConfig: PackageConfig,
  context: ReadContext,
  { saveCache = true, useCache = true } = {},
): Promise<PackageFile[]> {
  const { scanned, totalBytes, cache } = await scanWithCache(id, packageConfig, context, useCache);
  const started = Date.now();
  const files = await runStep(
    context.output,
    `${id}: hashing ${plural(scanned.length, 'file')} (${formatBytes(totalBytes)})`,
    (step) => hashFiles(scanned, cache, (done) => step.update(`${id}: hashing ${formatProgress(done, totalBytes, started)}`), context.signal),
    () => `${id}: ${describeFiles(scanned.length, totalBytes)}`,
  );
  if (saveCache) await cache.save(scanned);
  return files;
}

/** A package's files whose hashing packing finishes: see listFilesToPack. */
export interface FilesToPack {
  files: FileToPack[];
  /** Keeps the SHA-256s packing took in the hash cache, so the next run reads no unchanged file. */
  rememberHashes(packed: PackageFile[]): Promise<void>;
}

/**
 * Lists one package's files for packing without hashing them: for a run
 * whose decisions need no hash before packing (the store holds no version
 * of the package), packing takes each SHA-256 in the read that packs the
 * file, instead of a hashing pass reading every byte once more. Hashes the
 * cache vouches for are given, and packing checks them.
 */
export async function listFilesToPack(
  id: string,
  packageConfig: PackageConfig,
  context: ReadContext,
  { saveCache = true, useCache = true } = {},
): Promise<FilesToPack> {
  const { scanned, totalBytes, cache } = await scanWithCache(id, packageConfig, context, useCache);
  // Said as a hashing run says it: packing, the next step, reads and hashes them.
  const files = await runStep(
    context.output,
    `${id}: ${plural(scanned.length, 'file')} (${formatBytes(totalBytes)})`,
    async () => scanned.map((file): FileToPack => ({ path: file.path, size: file.size, absolutePath: file.absolutePath, sha256: cache.lookup(file) })),
    () => `${id}: ${describeFiles(scanned.length, totalBytes)}`,
  );
  return {
    files,
    async rememberHashes(packed) {
      if (!saveCache) return;
      const sha256Of = new Map(packed.map((file) => [file.path, file.sha256]));
      scanned.forEach((file, i) => {
        const sha256 = sha256Of.get(file.path);
        if (sha256 !== undefined && files[i]!.sha256 === undefined) cache.remember(file, sha256);
      });
      await cache.save(scanned);
    },
  };
}
