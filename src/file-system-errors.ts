import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve, sep } from 'node:path';

/**
 * Errors of the file system (Node's system errors: code, syscall, path) as
 * one line naming the path, the cause and the fix, instead of "a bug".
 */
export type FileSystemError = NodeJS.ErrnoException & { code: string; syscall: string; dest?: string };

export const isFileSystemError = (error: unknown): error is FileSystemError =>
  error instanceof Error && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? '') && typeof (error as NodeJS.ErrnoException).syscall === 'string';

const CAUSES: Record<string, string> = {
  ENOENT: 'no such file or folder, and it cannot be created there',
  ENOTDIR: 'a file stands where a folder is needed',
  EEXIST: 'something already exists there',
  EISDIR: 'it is a folder, not a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'the disk quota is exhausted',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EBUSY: 'it is busy',
};

const VERBS: Record<string, string> = {
  mkdir: 'create folder',
  open: 'open',
  read: 'read',
  write: 'write',
  rename: 'move',
  copyfile: 'copy to',
  unlink: 'remove',
  rmdir: 'remove',
  scandir: 'list',
  stat: 'read',
  lstat: 'read',
};

/**
 * The mount point of the disk holding `path` (or its nearest existing
 * folder): the topmost folder above it on the same device.
 */
export function mountPointOf(path: string): string {
  let current = resolve(path);
  let device: number | undefined;
  for (;;) {
    try {
      device = statSync(current).dev;
      break;
    } catch {
      if (dirname(current) === current) return current;
      current = dirname(current);
    }
  }
  while (dirname(current) !== current) {
    try {
      if (statSync(dirname(current)).dev !== device) break;
    } catch {
      break;
    }
    current = dirname(current);
  }
  return current;
}

/** A full disk named by where it is mounted, and when it is the temp folder's, how to use another. */
export function describeFullDisk(path: string): string {
  const inTemp = resolve(path).startsWith(resolve(tmpdir()) + sep);
  return `the disk mounted at ${mountPointOf(path)} is full (writing ${path}); free space there${inTemp ? ', or point TMPDIR at a folder on a disk with room' : ''}`;
}

/** `cannot create folder /x/y: a file stands where a folder is needed (ENOTDIR)`. */
export function describeFileSystemError(error: FileSystemError): string {
  const path = error.dest ?? error.path;
  if ((error.code === 'ENOSPC' || error.code === 'EDQUOT') && path) return describeFullDisk(path);
  const verb = VERBS[error.syscall] ?? error.syscall;
  const cause = CAUSES[error.code] ?? error.message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return `cannot ${verb} ${path ?? '(unknown path)'}: ${cause} (${error.code}); check the path and its permissions`;
}
