import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p` that always ends. Node's recursive mkdir loops forever where a
 * folder can be neither created nor found (ENOENT under /proc, some FUSE and
 * read-only mounts), so each missing folder is made one at a time, and the
 * first that cannot be is the error, with its path. A file where a folder is
 * needed fails as ENOTDIR naming that file.
 */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'EEXIST') return assertDirectory(path);
    if (code === 'ENOTDIR') return assertDirectory(await nearestExisting(path));
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw error;
    await makeDirectory(parent);
  }
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await assertDirectory(path);
  }
}

/** The closest folder or file above `path` that exists (a file there is what ENOTDIR is about). */
async function nearestExisting(path: string): Promise<string> {
  let current = dirname(path);
  while (!(await stat(current).then(() => true, () => false)) && dirname(current) !== current) current = dirname(current);
  return current;
}

async function assertDirectory(path: string): Promise<void> {
  if ((await stat(path)).isDirectory()) return;
  throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', errno: -20, syscall: 'mkdir', path });
}
