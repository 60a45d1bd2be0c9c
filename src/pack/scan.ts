import { realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import fg from 'fast-glob';
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

  const files: ScannedFile[] = [];
  const byFoldedPath = new Map<string, string>();
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

    const absolutePath = resolve(dir, relativePath);
    const target = await realpath(absolutePath);
    if (!target.startsWith(realDir + sep)) {
      throw new UserError(`package '${id}': '${path}' is a symlink to ${target}, outside the package folder; copy the file in instead`);
    }
    const stats = await stat(absolutePath);
    files.push({ path, absolutePath, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
