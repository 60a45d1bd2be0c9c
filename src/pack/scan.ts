import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import pLimit from 'p-limit';
import { UserError } from '../errors.js';
import type { PackageConfig } from '../config/schema.js';

/** A file of a package as found on disk, before hashing. */
export interface ScannedFile {
  /** POSIX path relative to the package dir, Unicode NFC: the name devices see. */
  path: string;
  absolutePath: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** File system calls in flight while scanning: per-file round trips overlap instead of queueing. */
const STAT_CONCURRENCY = 32;

/**
 * Lists a package's files and refuses what would break on a device: control
 * characters, paths that collide on case-insensitive file systems, symlinks
 * that point outside the package dir.
 */
export async function scanPackage(id: string, config: PackageConfig, baseDir: string): Promise<ScannedFile[]> {
  const dir = resolve(baseDir, config.dir);
  const dirStats = await stat(dir).catch(() => null);
  if (!dirStats?.isDirectory()) {
    throw new UserError(`package '${id}': folder ${dir} does not exist; create it or fix packages.${id}.dir in the config`);
  }
  const realDir = await realpath(dir);
  const relativePaths = await fg(config.include, {
    cwd: dir,
    ignore: config.exclude,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    unique: true,
  });
  if (relativePaths.length === 0) {
    throw new UserError(`package '${id}': no files in ${dir} match include/exclude; add files or fix packages.${id}.include`);
  }

  const byFoldedPath = new Map<string, string>();
  const located: { path: string; absolutePath: string }[] = [];
  for (const relativePath of relativePaths) {
    if (CONTROL_CHARACTERS.test(relativePath)) {
      throw new UserError(`package '${id}': file name ${JSON.stringify(relativePath)} has a control character; rename it`);
    }
    const path = relativePath.normalize('NFC');
    const folded = path.toLowerCase();
    const clash = byFoldedPath.get(folded);
    if (clash !== undefined) {
      throw new UserError(
        `package '${id}': '${clash}' and '${path}' differ only by case or Unicode form and collide on iOS/macOS; rename one`,
      );
    }
    byFoldedPath.set(folded, path);

    located.push({ path, absolutePath: resolve(dir, relativePath) });
  }

  // Folders are few: resolve each once. A file that is no symlink itself then
  // lies where its folder's real path says, and one lstat tells all.
  const realFolders = new Map<string, Promise<string>>();
  const realFolderOf = (folder: string) => {
    let real = realFolders.get(folder);
    if (!real) realFolders.set(folder, (real = realpath(folder)));
    return real;
  };
  const limit = pLimit(STAT_CONCURRENCY);
  const files = await Promise.all(
    located.map(({ path, absolutePath }) =>
      limit(async (): Promise<ScannedFile> => {
        let stats = await lstat(absolutePath);
        let target = `${await realFolderOf(dirname(absolutePath))}${sep}${basename(absolutePath)}`;
        if (stats.isSymbolicLink()) {
          target = await realpath(absolutePath);
          stats = await stat(absolutePath);
        }
        if (!target.startsWith(realDir + sep)) {
          throw new UserError(`package '${id}': '${path}' is a symlink to ${target}, outside the package folder; copy the file in instead`);
        }
        return { path, absolutePath, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
      }),
    ),
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
