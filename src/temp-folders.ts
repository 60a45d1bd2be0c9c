import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Staging folders in the system temp folder (TMPDIR), named with the pid of
 * the run that made them: `update-publish-<kind>-<pid>-XXXXXX`. A run killed
 * before it could clean up (SIGKILL, power loss) leaves its folder behind;
 * the next run removes the folders of runs that are no longer alive.
 */
const TEMP_FOLDER = /^update-publish-([a-z]+)-(\d+)-[A-Za-z0-9]{6}$/;

/** The run's temp folder: TMPDIR (else TMP, TEMP) of its environment, read as os.tmpdir() reads the process's. */
export function tempRootOf(env: Readonly<Record<string, string | undefined>>): string {
  if (process.platform === 'win32') return tmpdir();
  const root = env.TMPDIR || env.TMP || env.TEMP || '/tmp';
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}

export function makeTempFolder(kind: 'staging' | 'verify', root: string): Promise<string> {
  return mkdtemp(join(root, `update-publish-${kind}-${process.pid}-`));
}

/** Whether a process with this id is alive (or exists under another user: then it is not ours to judge). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the staging folders of runs that died; best effort (returns the folders removed). */
export async function removeStaleTempFolders(root: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(TEMP_FOLDER.exec(name)?.[2]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    const path = join(root, name);
    if (await rm(path, { recursive: true, force: true }).then(() => true, () => false)) removed.push(path);
  }
  return removed;
}
