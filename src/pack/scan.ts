import { readdir as fsReaddir, type Dirent, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { INSTALL_STATE_FILE } from '../protocol/layout.js';
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
export async function scanPackage(id: string, config: PackageConfig, baseDir: string, warn: (line: string) => void = () => {}): Promise<ScannedFile[]> {
  const dir = resolve(baseDir, config.dir);
  const dirStats = await stat(dir).catch(() => null);
  if (dirStats && !dirStats.isDirectory()) {
    throw new UserError(`package '${id}': ${dir} is a file, not a folder; point packages.${id}.dir in the config at the folder holding the package's files`);
  }
  if (!dirStats) {
    throw new UserError(`package '${id}': folder ${dir} does not exist; create it or fix packages.${id}.dir in the config`);
  }
  const realDir = await realpath(dir);
  const badNames = nameCheckingFs();
  // stats: fast-glob stats each entry on its walk (the target's, for a symlink), so no second pass does.
  // Not onlyFiles: what is neither a file nor a folder (a dangling link, a FIFO) is said, not dropped in silence.
  const entries = await fg(config.include, {
    cwd: dir,
    ignore: config.exclude,
    dot: true,
    onlyFiles: false,
    followSymbolicLinks: true,
    unique: true,
    stats: true,
    fs: badNames.fs,
  });
  const [firstBad] = badNames.found();
  if (firstBad) {
    throw new UserError(
      `package '${id}': the file name ${printableBytes(relative(dir, firstBad.folder), firstBad.name)} is not valid UTF-8, which devices and zip tools need; rename it (e.g. convmv -f latin1 -t utf8)`,
    );
  }
  const found = entries.filter(({ stats }) => stats!.isFile());
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
  // Said once the package is known to be fine: a symlink loop's last level also reads as a dangling link.
  for (const { path: relativePath, stats } of entries) {
    if (stats!.isFile() || stats!.isDirectory()) continue;
    warn(`package '${id}': ${printable(relativePath)} ${notAFile(stats!)}; it is left out`);
  }
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

/** Why an entry the walk found is no file: the walk follows links, so a link still seen is one to nothing. */
function notAFile(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'is a symbolic link to something that does not exist';
  if (stats.isFIFO()) return 'is a FIFO (named pipe), not a file';
  if (stats.isSocket()) return 'is a socket, not a file';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'is a device, not a file';
  return 'is not a regular file';
}

/**
 * The file system fast-glob walks with, reading names as bytes: a name that
 * is not valid UTF-8 reads back with U+FFFD in it, its stat then fails and
 * the file would be dropped without a word ("no files match").
 */
function nameCheckingFs() {
  const bad: { folder: string; name: Buffer }[] = [];
  type Callback = (error: NodeJS.ErrnoException | null, entries?: unknown[]) => void;
  const readdir = (path: string, optionsOrCallback: object | Callback, maybeCallback?: Callback) => {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback)!;
    const options = typeof optionsOrCallback === 'function' ? {} : optionsOrCallback;
    fsReaddir(path, { ...options, encoding: 'buffer' } as { encoding: 'buffer'; withFileTypes: true }, (error, entries) => {
      if (error) return callback(error);
      callback(
        null,
        (entries as (Buffer | Dirent<Buffer>)[]).map((entry) => {
          const raw = Buffer.isBuffer(entry) ? entry : entry.name;
          if (!isUtf8(raw)) bad.push({ folder: path, name: raw });
          if (Buffer.isBuffer(entry)) return raw.toString('utf8');
          return Object.assign(entry, { name: raw.toString('utf8') });
        }),
      );
    });
  };
  return { fs: { readdir } as unknown as fg.FileSystemAdapter, found: () => bad };
}

/** A name as bytes, quoted, with \xNN for every byte outside printable ASCII: the bytes that need renaming show. */
function printableBytes(folder: string, name: Buffer): string {
  const shown = [...name].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
  return `'${folder ? `${folder.split(sep).join('/')}/` : ''}${shown}'`;
}
