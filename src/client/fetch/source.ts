import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { assertSafeEntryPath } from '../../protocol/path-safety.js';
import { IntegrityError, ProtocolError } from '../errors.js';

/** Where a device reads releases from: the store itself, or the CDN in front of it. */
export interface UpdateSource {
  /** For messages; never holds a secret. */
  readonly location: string;
  /** A small document (index, manifest, signature); null when absent. */
  readDocument(key: string): Promise<Buffer | null>;
  /** A package object, streamed; null when absent. */
  openObject(key: string): Promise<Readable | null>;
}

/**
 * Keys come from documents that may have been tampered with: only plain
 * relative keys are requested, so none can climb out of the store root or
 * turn into another URL.
 */
function checkedKey(key: string): string {
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
    readDocument: async (key) => (await store.readDocument(checkedKey(key)))?.body ?? null,
    openObject: async (key) => ((await store.head(checkedKey(key))) ? store.openRead(key) : null),
  };
}

/** Reads over HTTP(S) from the base URL the store is served at (a CDN in front of the bucket). */
export function httpSource(baseUrl: string): UpdateSource {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new ProtocolError(`'${baseUrl}' is not a URL; give the base URL the store is served at, e.g. https://cdn.example.com/updates/`, 'input');
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new ProtocolError(`'${baseUrl}' is not an http(s) URL; give the base URL the store is served at, e.g. https://cdn.example.com/updates/`, 'input');
  }
  // Credentials in the URL would end up in messages; they do not belong there.
  const shown = `${base.origin}${base.pathname}`;

  const get = async (key: string): Promise<Response | null> => {
    const url = new URL(checkedKey(key).split('/').map(encodeURIComponent).join('/'), base);
    let response: Response;
    try {
      response = await fetch(url);
    } catch (error) {
      const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new ProtocolError(`cannot reach ${shown}${key}: ${cause}; check the URL and the network`);
    }
    if (response.status === 404) return null;
    if (!response.ok) {
      await response.body?.cancel();
      const hint = response.status === 403 ? ' (a CDN in front of a private bucket answers 403 for a missing object too)' : '';
      throw new ProtocolError(`GET ${shown}${key} answered HTTP ${response.status}${hint}; check the URL and the CDN`);
    }
    return response;
  };

  return {
    location: shown,
    async readDocument(key) {
      const response = await get(key);
      return response && Buffer.from(await response.arrayBuffer());
    },
    async openObject(key) {
      const response = await get(key);
      return response && (response.body ? Readable.fromWeb(response.body as ReadableStream<Uint8Array>) : Readable.from([]));
    },
  };
}
