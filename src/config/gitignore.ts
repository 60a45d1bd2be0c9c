import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The local caches (file hashes, old content for patches): never worth committing. */
export const LOCAL_STATE_DIR = '.update-publish/';

/** How a line of .gitignore names a path, ignoring a leading or trailing slash. */
const normalised = (line: string) => line.trim().replace(/^\//, '').replace(/\/$/, '');

/**
 * Appends to the project's .gitignore the entries it does not list yet (creating the file),
 * leaving every existing line as it is. Returns the entries added.
 */
export async function ensureGitignored(projectDir: string, entries: string[]): Promise<string[]> {
  const path = join(projectDir, '.gitignore');
  const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const listed = new Set(current.split(/\r?\n/).map(normalised));
  const added = entries.filter((entry) => !listed.has(normalised(entry)));
  if (added.length === 0) return [];
  const separator = current === '' || current.endsWith('\n') ? '' : '\n';
  await writeFile(path, `${current}${separator}# update-publish: local caches and the folder store\n${added.join('\n')}\n`);
  return added;
}
