import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { ProtocolError } from '../../protocol/errors.js';
import type { ChannelTrust } from '../../protocol/freshness.js';

import { INSTALL_STATE_FILE } from '../../protocol/layout.js';

export { INSTALL_STATE_FILE };

export interface InstallState {
  package: string;
  version: string;
  channel: string;
  installedAt: string;
  /** What the device accepted of the channel's index: a mirror cannot serve it an older one, or an unsigned one after a signed one. */
  trust?: ChannelTrust;
}

/**
 * What `dir` holds: null when it is missing or empty (nothing installed).
 * A folder with other content, or another package, is refused: installing
 * replaces the whole folder.
 */
export async function readInstallState(dir: string, packageId: string): Promise<InstallState | null> {
  const stats = await stat(dir).catch(() => null);
  if (!stats) return null;
  if (!stats.isDirectory()) throw new ProtocolError(`${dir} is not a folder; choose a folder to install into`, 'input');
  const file = join(dir, INSTALL_STATE_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) {
    if ((await readdir(dir)).length === 0) return null;
    throw new ProtocolError(`${dir} is not empty and has no ${INSTALL_STATE_FILE}, so it was not installed by update-publish; choose an empty or new folder`, 'input');
  }
  let state: Partial<InstallState>;
  try {
    state = JSON.parse(text);
  } catch {
    state = {};
  }
  if (typeof state.package !== 'string' || typeof state.version !== 'string' || !semver.valid(state.version)) {
    throw new ProtocolError(`${file} is damaged; delete ${dir} to install again from scratch`, 'input');
  }
  if (state.package !== packageId) {
    throw new ProtocolError(`${dir} holds package '${state.package}', not '${packageId}'; install each package into its own folder`, 'input');
  }
  return state as InstallState;
}

export async function writeInstallState(dir: string, state: InstallState): Promise<void> {
  await writeFile(join(dir, INSTALL_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { flag: 'wx' });
}

/** Replaces the state of an installed folder in place (write aside, rename): the channel's trust moved on, the content did not. */
export async function updateInstallState(dir: string, state: InstallState): Promise<void> {
  const file = join(dir, INSTALL_STATE_FILE);
  const aside = `${file}.${process.pid}.tmp`;
  await writeFile(aside, `${JSON.stringify(state, null, 2)}\n`);
  await rename(aside, file);
}
