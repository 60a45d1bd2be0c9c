import type { Readable } from 'node:stream';

/** Bytes start to end, both inclusive (as HTTP Range). */
/** How many small objects (documents, shards, records) one command reads from a store at once. */
export const READ_CONCURRENCY = 8;

export interface ByteRange {
  start: number;
  end: number;
}

/** What a store knows about one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Hex SHA-256 when the store recorded it (S3 metadata, folder store: computed on demand). */
  sha256?: string;
  lastModified?: Date;
}

export interface WriteOptions {
  contentType: string;
  cacheControl: string;
  /** Hex SHA-256 of the bytes, sent so the store verifies what it stored. */
  sha256: string;
}

export interface ConditionalWrite extends WriteOptions {
  /** Write only if the current object has this etag (as returned by readDocument). */
  ifMatch?: string;
  /** Write only if no object exists at the key. */
  ifNoneMatch?: boolean;
}

export interface StoredDocument {
  body: Buffer;
  /** Opaque version tag for conditional writes. */
  etag: string;
}

/** An upload still open in the store (S3 multipart); the folder store has none. */
export interface OpenUpload {
  key: string;
  uploadId: string;
  initiated?: Date;
}

/**
 * One interface for the folder store and S3. Keys are POSIX paths relative to
 * the store root; the folder store lays them out exactly as the bucket does.
 */
export interface Store {
  /** Where the store is, for humans: a folder store's absolute path, or s3://bucket/prefix. Never a secret. */
  readonly location: string;
  /** The folder a folder store keeps its objects in (what `serve` reads); absent for a remote store. */
  readonly folder?: string;
  /** Small documents (index, manifest): null when absent. */
  readDocument(key: string): Promise<StoredDocument | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Streams a local file into the store; onProgress gets bytes written so far. */
  putFile(
    key: string,
    localPath: string,
    options: WriteOptions & { size: number },
    onProgress?: (loadedBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Atomic document write; returns the new etag, or null when the condition
   * failed. `stored` is set when a decorator stored other bytes than `body`
   * (the signing store adds the document's signatures).
   */
  writeDocument(key: string, body: Buffer, options: ConditionalWrite): Promise<{ etag: string; stored?: Buffer } | null>;
  /** The object's bytes, or only those from `start` to `end` inclusive (a package's central directory, one entry). */
  openRead(key: string, range?: ByteRange): Promise<Readable>;
  /** Every object under the prefix (recursive). */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(keys: string[]): Promise<void>;
  listOpenUploads(): Promise<OpenUpload[]>;
  abortUpload(upload: OpenUpload): Promise<void>;
  close(): Promise<void>;
}
