import path from 'node:path';
import { ProtocolError } from './errors.js';

/**
 * Zip-slip guard. Entry paths come from packages and manifests, which an
 * attacker may have crafted; only plain relative POSIX paths pass, whatever
 * the platform extracting them.
 */
export class UnsafePathError extends ProtocolError {
  constructor(
    readonly entryPath: string,
    why: string,
  ) {
    super(`package entry ${printable(entryPath)} is refused: ${why}; the package is corrupt or malicious, do not install it`);
    this.name = 'UnsafePathError';
  }
}

// C0 controls, DEL and C1 controls.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE_LETTER = /^[a-zA-Z]:/;

/** Quoted, with every control character escaped, so a hostile name cannot drive the terminal. */
export function printable(entryPath: string): string {
  return JSON.stringify(entryPath.slice(0, 200)).replace(
    /[\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Why a path may not be a package entry, or undefined when it is a plain relative POSIX path. */
export function entryPathProblem(entryPath: string): string | undefined {
  if (entryPath.length === 0) return 'the path is empty';
  if (CONTROL_CHARACTER.test(entryPath)) return 'it contains a control character';
  if (entryPath.includes('\\')) return 'it contains a backslash';
  if (entryPath.startsWith('/')) return 'it is an absolute path';
  if (DRIVE_LETTER.test(entryPath)) return 'it starts with a drive letter';
  for (const segment of entryPath.split('/')) {
    if (segment === '') return 'it has an empty segment (// or a trailing /)';
    if (segment === '..') return 'it has a ".." segment';
    // "." is harmless alone but gives one file two names; only canonical paths pass.
    if (segment === '.') return 'it has a "." segment';
  }
  return undefined;
}

export function assertSafeEntryPath(entryPath: string): void {
  const problem = entryPathProblem(entryPath);
  if (problem) throw new UnsafePathError(entryPath, problem);
}

/** root joined with a checked entry path; throws unless the result stays strictly inside root. */
export function safeJoin(root: string, entryPath: string): string {
  assertSafeEntryPath(entryPath);
  const base = path.resolve(root);
  const target = path.resolve(base, entryPath);
  const relative = path.relative(base, target);
  const escapes = relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  if (relative === '' || escapes) {
    throw new UnsafePathError(entryPath, 'it resolves outside the install folder');
  }
  return target;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * Whether a zip entry is a symbolic link, from its external file attributes
 * (Unix mode in the high 16 bits, as yauzl's `externalFileAttributes`).
 * Extractors must refuse such entries, so no link ever exists to write through.
 */
export function isSymlinkEntry(externalFileAttributes: number): boolean {
  return ((externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;
}
