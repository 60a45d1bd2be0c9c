import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { INSTALL_STATE_FILE } from '../client/fetch/install-state.js';
import { entryPathProblem, printable } from '../protocol/path-safety.js';
import { UserError } from '../errors.js';
import type { PackageConfig } from '../config/schema.js';

/** A file of a package as found on disk, before hashing. */
export interface ScannedFile {
  /** POSIX path relative to the package dir, Unicode NFC: the name devices see. */
  path: string;
  absolutePath: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

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
  // stats: fast-glob stats each file on its walk (the target's, for a symlink), so no second pass does.
  const found = await fg(config.include, {
    cwd: dir,
    ignore: config.exclude,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    unique: true,
    stats: true,
  });
  if (found.length === 0) {
    throw new UserError(`package '${id}': no files in ${dir} match include/exclude; add files or fix packages.${id}.include`);
  }

  const byFoldedPath = new Map<string, string>();
  const paths = found.map(({ path: relativePath }) => {
    // Zip tools read "\" as a folder separator and "name:" as a drive; devices refuse both.
    if (/[\\:]/.test(relativePath)) {
      throw new UserError(`package '${id}': file name ${printable(relativePath)} has a '\\' or ':', which zip tools and devices read as a folder or drive; rename it`);
    }
    // What a device's installer refuses is refused here, before anything is published.
    const problem = entryPathProblem(relativePath);
    if (problem) throw new UserError(`package '${id}': file name ${printable(relativePath)} cannot be installed on devices: ${problem}; rename it`);
    if (relativePath === INSTALL_STATE_FILE) {
      throw new UserError(`package '${id}': ${INSTALL_STATE_FILE} is the file devices keep their install state in; rename it or add it to packages.${id}.exclude`);
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
    return path;
  });

  // Folders are few: each is resolved and listed once. A file that is no
  // symlink itself then lies where its folder's real path says; only symlinks
  // are resolved one by one.
  const absolutePaths = found.map(({ path: relativePath }) => resolve(dir, relativePath));
  // With every folder up to the package dir, so a symlink loop shows as a folder that is its own ancestor.
  const folderPaths = [...new Set(absolutePaths.flatMap((path) => foldersUpTo(dir, dirname(path))))];
  const folders = new Map(
    await Promise.all(
      folderPaths.map(async (folder) => {
        const [real, entries] = await Promise.all([realpath(folder), readdir(folder, { withFileTypes: true })]);
        const symlinks = new Set(entries.filter((entry) => entry.isSymbolicLink()).map((entry) => entry.name));
        return [folder, { real, symlinks }] as const;
      }),
    ),
  );
  assertNoSymlinkLoop(id, dir, realDir, folders);
  const targets = await Promise.all(
    absolutePaths.map((absolutePath) => {
      const folder = folders.get(dirname(absolutePath))!;
      const name = basename(absolutePath);
      return folder.symlinks.has(name) ? realpath(absolutePath) : `${folder.real}${sep}${name}`;
    }),
  );
  const files = found.map(({ stats }, i): ScannedFile => {
    if (!targets[i]!.startsWith(realDir + sep)) {
      throw new UserError(`package '${id}': '${paths[i]}' is a symlink to ${targets[i]}, outside the package folder; copy the file in instead`);
    }
    return { path: paths[i]!, absolutePath: absolutePaths[i]!, size: stats!.size, mtimeMs: stats!.mtimeMs, ctimeMs: stats!.ctimeMs, ino: stats!.ino };
  });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * fast-glob follows a folder symlink that points back up the tree until the
 * OS refuses (about 40 levels): a folder whose real path is also that of a
 * folder above it is such a loop, and would pack the same files over and over.
 */
function assertNoSymlinkLoop(id: string, dir: string, realDir: string, folders: ReadonlyMap<string, { real: string }>): void {
  const seen = new Map<string, string>([[realDir, dir]]);
  for (const folder of [...folders.keys()].sort((a, b) => a.length - b.length)) {
    const real = folders.get(folder)!.real;
    const above = seen.get(real);
    if (above !== undefined && above !== folder && folder.startsWith(above + sep)) {
      const name = (path: string) => `'${path === dir ? '.' : path.slice(dir.length + 1)}'`;
      throw new UserError(`package '${id}': folder ${name(folder)} is a symlink loop back to ${name(above)}; remove the link`);
    }
    if (above === undefined) seen.set(real, folder);
  }
}

/** folder and each folder above it, up to and including dir. */
function foldersUpTo(dir: string, folder: string): string[] {
  const folders = [folder];
  while (folders.at(-1) !== dir) folders.push(dirname(folders.at(-1)!));
  return folders;
}
