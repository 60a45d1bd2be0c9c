import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * What the device keeps for receipts and the crash-loop guard, beside the
 * install folder (`<dir>.update-publish-device.json`): it outlives every
 * swap of the folder and exists before anything is installed.
 */
export interface DeviceState {
  /** Random per install (this folder), made on first use: never a device or user id. */
  iid: string;
  /** Receipts not sent yet, oldest first (resent with the same eid). */
  queue: QueuedReceipt[];
  /** Releases this device rolled back: never installed again. */
  failed: string[];
  /** An install not confirmed yet by the app (markLaunched). */
  pending?: PendingInstall;
  /** Where receipts go, as the last index said; absent: send none. */
  receipts?: { endpoint: string | null; sampled: boolean };
}

export interface QueuedReceipt {
  /** The whole receipt URL (endpoint and query). */
  url: string;
  eid: string;
}

export interface PendingInstall {
  package: string;
  channel: string;
  version: string;
  previousVersion: string | null;
  /** App starts since the install without a confirmation. */
  starts: number;
  iv?: number;
}

/** The queue's bounds: oldest receipts go first past them. */
export const MAX_QUEUED_RECEIPTS = 200;
export const MAX_QUEUED_BYTES = 64 * 1024;

export const deviceStatePath = (dir: string) => `${resolve(dir)}.update-publish-device.json`;
/** The previous install, kept until the new one is confirmed. */
export const previousInstallPath = (dir: string) => `${resolve(dir)}.update-publish-previous`;

export const newId = () => randomBytes(8).toString('hex');

/** Whether the device keeps receipts state for this folder (the publisher asked for receipts at some point). */
export const hasDeviceState = async (dir: string) => (await readFile(deviceStatePath(dir), 'utf8').catch(() => null)) !== null;

export async function readDeviceState(dir: string): Promise<DeviceState> {
  const text = await readFile(deviceStatePath(dir), 'utf8').catch(() => null);
  if (text !== null) {
    try {
      const state = JSON.parse(text) as Partial<DeviceState>;
      if (typeof state.iid === 'string' && Array.isArray(state.queue) && Array.isArray(state.failed)) return state as DeviceState;
    } catch {
      // A damaged state starts over: receipts are best effort.
    }
  }
  return { iid: newId(), queue: [], failed: [] };
}

export async function writeDeviceState(dir: string, state: DeviceState): Promise<void> {
  const path = deviceStatePath(dir);
  const aside = `${path}.${process.pid}.tmp`;
  await writeFile(aside, `${JSON.stringify(state, null, 2)}\n`);
  await rename(aside, path);
}

/** Adds receipts to the queue, dropping the oldest past 200 receipts or 64 KiB. */
export function enqueue(state: DeviceState, receipts: QueuedReceipt[]): void {
  state.queue.push(...receipts);
  while (state.queue.length > MAX_QUEUED_RECEIPTS) state.queue.shift();
  let bytes = state.queue.reduce((sum, entry) => sum + entry.url.length, 0);
  while (bytes > MAX_QUEUED_BYTES && state.queue.length > 0) bytes -= state.queue.shift()!.url.length;
}
