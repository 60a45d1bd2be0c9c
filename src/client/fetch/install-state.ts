import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProtocolError } from '../../protocol/errors.js';
import type { ChannelTrust } from '../../protocol/freshness.js';
import { isProtocolVersion } from '../../protocol/version.js';
import { STAGING_MARK } from './swap.js';

import { INSTALL_STATE_FILE } from '../../protocol/layout.js';

export { INSTALL_STATE_FILE };

export interface InstallState {
  package: string;
  /**
   * What is installed; null in a folder that holds only the marker: nothing
   * installed yet, but the channel's trust is remembered (§5).
   */
  version: string | null;
  /** Absent in a marker an app wrote for content shipped in its binary (a base), and in a trust-only marker. */
  channel?: string;
  installedAt?: string;
  /** What the device accepted of the channel's index: a mirror cannot serve it an older one, or an unsigned one after a signed one. */
  trust?: ChannelTrust;
  /** The newest root accepted (as signed): the next run starts from it, never from an older one. */
  root?: unknown;
}

/** An install folder as found: the marker's text (null: none) and the names of every other entry. */
export interface InstallFolder {
  marker: string | null;
  otherEntries: string[];
}

/**
 * What an install folder holds (§10.2), decided from its listing alone so
 * every client reads a folder the same way: null when it is empty (nothing
 * installed, nothing remembered). Refused (input): a folder with other
 * content and no marker (not ours: installing would delete it), a marker
 * that is not one, another package's folder, and a trust-only marker beside
 * files.
 */
export function interpretInstallFolder(folder: InstallFolder, packageId: string, dir: string): InstallState | null {
  const file = join(dir, INSTALL_STATE_FILE);
  if (folder.marker === null) {
    if (folder.otherEntries.length === 0) return null;
    throw new ProtocolError(`${dir} is not empty and has no ${INSTALL_STATE_FILE}, so it was not installed by update-publish; choose an empty or new folder`, 'input');
  }
  let state: Record<string, unknown> | null;
  try {
    const parsed: unknown = JSON.parse(folder.marker);
    state = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    state = null;
  }
  const damaged = () => new ProtocolError(`${file} is damaged; delete ${dir} to install again from scratch`, 'input');
  if (!state || typeof state.package !== 'string' || !(state.version === null || isProtocolVersion(state.version))) throw damaged();
  if (state.package !== packageId) {
    throw new ProtocolError(`${dir} holds package '${state.package}', not '${packageId}'; install each package into its own folder`, 'input');
  }
  // A marker saying nothing is installed, beside files: something else wrote there.
  if (state.version === null && folder.otherEntries.length > 0) throw damaged();
  const trust = channelTrustOf(state.trust);
  return { ...(state as unknown as InstallState), trust };
}

/** The remembered trust, or undefined when the marker holds none that is well formed (then nothing was remembered). */
function channelTrustOf(value: unknown): ChannelTrust | undefined {
  const trust = value as Partial<ChannelTrust> | null | undefined;
  if (!trust || typeof trust !== 'object') return undefined;
  if (typeof trust.channel !== 'string' || !Number.isSafeInteger(trust.indexVersion) || trust.indexVersion! < 0 || typeof trust.signed !== 'boolean') return undefined;
  return { channel: trust.channel, indexVersion: trust.indexVersion!, signed: trust.signed };
}

/**
 * After a check that installs nothing (§5): the marker to write so the
 * channel's trust is remembered, or null when the folder already says it.
 * Without an install, that is a trust-only marker (`version: null`).
 */
export function markerAfterCheck(state: InstallState | null, packageId: string, channel: string, trust: ChannelTrust): InstallState | null {
  if (!state) return { package: packageId, version: null, channel, trust };
  if (state.trust && state.trust.channel === trust.channel && state.trust.indexVersion === trust.indexVersion && state.trust.signed === trust.signed) return null;
  return { ...state, trust };
}

/** What `dir` holds: null when it is missing or empty (nothing installed, nothing remembered). */
export async function readInstallState(dir: string, packageId: string): Promise<InstallState | null> {
  const stats = await stat(dir).catch(() => null);
  if (!stats) return null;
  if (!stats.isDirectory()) throw new ProtocolError(`${dir} is not a folder; choose a folder to install into`, 'input');
  const marker = await readFile(join(dir, INSTALL_STATE_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  const otherEntries = (await readdir(dir)).filter((name) => name !== INSTALL_STATE_FILE);
  return interpretInstallFolder({ marker, otherEntries }, packageId, dir);
}

export async function writeInstallState(dir: string, state: InstallState): Promise<void> {
  await writeFile(join(dir, INSTALL_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { flag: 'wx' });
}

/**
 * Replaces the marker in place (write aside, rename): the channel's trust
 * moved on, the content did not. Creates the folder for a trust-only marker.
 */
export async function updateInstallState(dir: string, state: InstallState): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Aside means beside the folder, named as a staging leftover: a crash leaves nothing in the folder, and the next run removes it.
  const aside = `${dir}${STAGING_MARK}marker-${process.pid}`;
  await writeFile(aside, `${JSON.stringify(state, null, 2)}\n`);
  await rename(aside, join(dir, INSTALL_STATE_FILE));
}
