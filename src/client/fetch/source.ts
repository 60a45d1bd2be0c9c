import type { Readable } from 'node:stream';
import { assertSafeEntryPath } from '../../protocol/path-safety.js';
import { IntegrityError, ProtocolError } from '../errors.js';

/** Where a device reads releases from: the store itself, or the CDN in front of it. */
export interface UpdateSource {
  /** For messages; never holds a secret. */
  readonly location: string;
  /** The http(s) base URL the store is read at, when it is one: relative receipts URLs resolve against it. */
  readonly baseUrl?: string;
  /** A small document (index, manifest, whitelist); null when absent. Refused past `maxBytes`. */
  readDocument(key: string, maxBytes?: number): Promise<Buffer | null>;
  /** A package object, streamed; null when absent. `size` (the manifest's) scales the time it may take in all. */
  openObject(key: string, size?: number): Promise<Readable | null>;
}

/**
 * Keys come from documents that may have been tampered with: only plain
 * relative keys are requested, so none can climb out of the store root or
 * turn into another URL.
 */
export function checkedKey(key: string): string {
  try {
    assertSafeEntryPath(key);
  } catch {
    throw new IntegrityError(JSON.stringify(key), 'is not a plain relative object key; the document naming it was altered');
  }
  return key;
}

/** The reads storeSource needs of a publisher's store (folder or S3): the CLI's Store has them. */
export interface StoreReader {
  readonly location: string;
  readDocument(key: string): Promise<{ body: Buffer } | null>;
  head(key: string): Promise<unknown | null>;
  openRead(key: string): Promise<Readable>;
}

/** Reads through a publisher's store (folder or S3), as the CLI sees it. */
export function storeSource(store: StoreReader): UpdateSource {
  return {
    location: store.location,
    async readDocument(key, maxBytes) {
      const body = (await store.readDocument(checkedKey(key)))?.body ?? null;
      if (body && maxBytes !== undefined && body.length > maxBytes) {
        throw new ProtocolError(`${key} is larger than the ${maxBytes} bytes a device reads for it: refused (an endless or swapped document)`);
      }
      return body;
    },
    openObject: async (key) => ((await store.head(checkedKey(key))) ? store.openRead(key) : null),
  };
}
