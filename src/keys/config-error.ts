import { UserError } from '../errors.js';
import { ProtocolError } from '../protocol/errors.js';

/**
 * Runs a read of a key setting with the device library's readers: what they
 * refuse is a bad setting of the publisher's config (a usage error), said in
 * the same words.
 */
export async function readSetting<T>(read: () => Promise<T> | T): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw error instanceof ProtocolError ? new UserError(error.message) : error;
  }
}

/** readSetting for synchronous reads. */
export function readSettingSync<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof ProtocolError ? new UserError(error.message) : error;
  }
}
