import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { makeDirectory } from '../../make-dir.js';

/**
 * The install folder is replaced as a whole: the new tree is built beside it
 * (same file system, so renames are atomic), then swapped in with two
 * renames. One fetch per folder at a time: leftovers of another run beside
 * the folder are taken for a crashed run's and cleaned.
 */
export const STAGING_MARK = '.update-publish-staging-';
const OLD_MARK = '.update-publish-old-';

/** A fresh work folder beside dir. */
export async function makeStagingDir(dir: string): Promise<string> {
  await makeDirectory(dirname(dir));
  return mkdtemp(`${dir}${STAGING_MARK}`);
}

/**
 * Puts `tree` where `dir` is; the previous content is removed once the new
 * one is in place, or moved to `keepPreviousAt` (the crash-loop guard restores it).
 */
export async function swapInto(dir: string, tree: string, keepPreviousAt?: string): Promise<void> {
  const previous = (await stat(dir).catch(() => null)) ? `${dir}${OLD_MARK}${randomBytes(4).toString('hex')}` : undefined;
  if (previous) await rename(dir, previous);
  // A crash here leaves no dir and the previous tree at `previous`: recoverInterruptedSwap puts it back.
  try {
    await rename(tree, dir);
  } catch (error) {
    if (previous) await rename(previous, dir);
    throw error;
  }
  if (previous && keepPreviousAt) {
    await rm(keepPreviousAt, { recursive: true, force: true });
    await rename(previous, keepPreviousAt);
  } else if (previous) {
    await rm(previous, { recursive: true, force: true });
  }
}

/**
 * Undoes what a crashed fetch left beside dir: restores the previous tree if
 * the crash fell between the two renames, and removes work folders.
 */
export async function recoverInterruptedSwap(dir: string): Promise<void> {
  const parent = dirname(dir);
  const name = basename(dir);
  const siblings = await readdir(parent).catch(() => [] as string[]);
  const olds = siblings.filter((entry) => entry.startsWith(`${name}${OLD_MARK}`));
  const leftovers = siblings.filter((entry) => entry.startsWith(`${name}${STAGING_MARK}`));
  if (olds.length > 0 && !(await stat(dir).catch(() => null))) await rename(join(parent, olds.pop()!), dir);
  for (const entry of [...olds, ...leftovers]) await rm(join(parent, entry), { recursive: true, force: true });
}
