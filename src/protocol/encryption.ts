import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ByteQueue } from './byte-queue.js';
import { ProtocolError } from './errors.js';

/**
 * Package objects at rest: AES-256-GCM in a chunked stream format, so
 * multi-gigabyte packages are sealed and opened with memory bounded by one
 * chunk, and every chunk is authenticated on its own.
 *
 *   header: "UPE1" | version u8 | key id (8 bytes) | nonce prefix (8 bytes) | chunk size u32be
 *   chunk i: ciphertext | 16-byte tag, nonce = prefix || i (u32be),
 *            AAD = header || i (u32be) || final flag (u8)
 *
 * Every chunk but the last holds exactly `chunk size` plaintext bytes; the last
 * holds fewer (possibly none) and carries the final flag. Binding the header,
 * the index and the flag into each tag makes dropped, reordered, appended or
 * truncated chunks fail authentication.
 */
/** The name manifests give this format (`encryption.algorithm`). */
export const ENCRYPTION_ALGORITHM = 'aes-256-gcm-chunked' as const;
export const ENCRYPTION_MAGIC = Buffer.from('UPE1', 'ascii');
export const ENCRYPTION_VERSION = 1;
export const ENCRYPTION_KEY_BYTES = 32;
export const ENCRYPTION_CHUNK_SIZE = 64 * 1024;
export const ENCRYPTION_HEADER_SIZE = 4 + 1 + 8 + 8 + 4;
export const ENCRYPTION_TAG_SIZE = 16;

const CIPHER = 'aes-256-gcm';
const KEY_ID_LABEL = 'update-publish encryption key id v1';
const MAX_CHUNK_INDEX = 0xffff_ffff;

export type DecryptFailure = 'not-encrypted' | 'unsupported-version' | 'wrong-key' | 'truncated' | 'tampered';

/** The object cannot be decrypted; `reason` says why (exit 1: the store or the key is wrong, not the command). */
export class DecryptError extends ProtocolError {
  constructor(
    message: string,
    readonly reason: DecryptFailure,
  ) {
    super(message);
    this.name = 'DecryptError';
  }
}

/** 16 hex naming the key without revealing it (an HMAC keyed by it, not a plain hash). */
export function encryptionKeyId(key: Buffer): string {
  assertKeyLength(key);
  return createHmac('sha256', key).update(KEY_ID_LABEL).digest().subarray(0, 8).toString('hex');
}

/** A 32-byte key from 64 hex digits or base64 (standard or URL-safe); `source` names it in errors. */
export function decodeEncryptionKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (key?.length !== ENCRYPTION_KEY_BYTES) {
    throw new ProtocolError(
      `encryption.key: ${source} is not a 32-byte key in base64 or hex; generate one with \`openssl rand -base64 32\``,
      'input',
    );
  }
  return key;
}

/** Ciphertext size for a plaintext of plainSize bytes (for Content-Length and progress). */
export function encryptedSize(plainSize: number): number {
  const chunks = Math.floor(plainSize / ENCRYPTION_CHUNK_SIZE) + 1;
  return ENCRYPTION_HEADER_SIZE + plainSize + chunks * ENCRYPTION_TAG_SIZE;
}

/**
 * Seals a stream. `format` exists for test vectors only (a fixed nonce prefix
 * makes them reproducible, a small chunk size keeps them small): a nonce
 * prefix used twice with one key breaks GCM, so publishers never pass it.
 */
export function createEncryptStream(key: Buffer, format: { noncePrefix?: Buffer; chunkSize?: number } = {}): Transform {
  const keyId = encryptionKeyId(key);
  const chunkSize = format.chunkSize ?? ENCRYPTION_CHUNK_SIZE;
  if (!(Number.isInteger(chunkSize) && chunkSize > 0 && chunkSize <= ENCRYPTION_CHUNK_SIZE)) throw new RangeError(`chunk size ${chunkSize} is not 1–${ENCRYPTION_CHUNK_SIZE}`);
  if (format.noncePrefix !== undefined && format.noncePrefix.length !== 8) throw new RangeError('the nonce prefix is 8 bytes');
  const header = encodeHeader(keyId, format.noncePrefix ?? randomBytes(8), chunkSize);
  const pending = new ByteQueue();
  let index = 0;
  let headerSent = false;

  const emit = (stream: Transform, plain: Buffer, final: boolean) => {
    if (!headerSent) {
      stream.push(header);
      headerSent = true;
    }
    if (index > MAX_CHUNK_INDEX) throw new RangeError('object too large to encrypt: chunk counter exhausted');
    stream.push(sealChunk(key, header, index++, plain, final));
  };

  return new Transform({
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      pending.push(chunk);
      try {
        while (pending.length >= chunkSize) emit(this, pending.take(chunkSize), false);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      try {
        emit(this, pending.takeAll(), true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * Opens an object made by createEncryptStream. `keys` may hold several keys
 * (rotation): the header's key id picks one. `expectedKeyId`, when given (e.g.
 * from a signed manifest), must match the header too.
 *
 * Plaintext is released chunk by chunk as each authenticates; an error can
 * still come at the end (truncation), so write to a temporary file and keep
 * it only when the stream finishes cleanly.
 */
export function createDecryptStream(keys: Buffer | readonly Buffer[], expectedKeyId?: string): Transform {
  const candidates = (Buffer.isBuffer(keys) ? [keys] : [...keys]).map((key) => ({ key, id: encryptionKeyId(key) }));
  const pending = new ByteQueue();
  let opened: OpenedObject | undefined;
  let index = 0;

  const open = (stream: Transform, object: OpenedObject, sealed: Buffer, final: boolean) => {
    stream.push(openChunk(object.key, object.header, index++, sealed, final));
  };

  return new Transform({
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      pending.push(chunk);
      try {
        if (!opened) {
          if (pending.length < ENCRYPTION_HEADER_SIZE) return callback();
          opened = readHeader(pending.take(ENCRYPTION_HEADER_SIZE), candidates, expectedKeyId);
        }
        // A sealed record of full size is never the last one: the final chunk is always shorter.
        while (pending.length >= opened.sealedChunkSize) open(this, opened, pending.take(opened.sealedChunkSize), false);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      try {
        if (!opened) {
          throw pending.length === 0
            ? new DecryptError('encrypted object is empty; re-upload the package', 'truncated')
            : new DecryptError('encrypted object is shorter than its header: it was truncated; re-upload the package', 'truncated');
        }
        if (pending.length < ENCRYPTION_TAG_SIZE) {
          throw new DecryptError(
            `encrypted object ends after chunk ${index - 1} without its final chunk: it was truncated; re-upload the package`,
            'truncated',
          );
        }
        open(this, opened, pending.takeAll(), true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/** The header read and the key it names, once the first bytes arrived. */
interface OpenedObject {
  key: Buffer;
  header: Buffer;
  sealedChunkSize: number;
}

function encodeHeader(keyId: string, noncePrefix: Buffer, chunkSize: number): Buffer {
  const header = Buffer.alloc(ENCRYPTION_HEADER_SIZE);
  ENCRYPTION_MAGIC.copy(header, 0);
  header.writeUInt8(ENCRYPTION_VERSION, 4);
  Buffer.from(keyId, 'hex').copy(header, 5);
  noncePrefix.copy(header, 13);
  header.writeUInt32BE(chunkSize, 21);
  return header;
}

function readHeader(
  header: Buffer,
  candidates: { key: Buffer; id: string }[],
  expectedKeyId: string | undefined,
): OpenedObject {
  if (!header.subarray(0, 4).equals(ENCRYPTION_MAGIC)) {
    throw new DecryptError('object is not an encrypted update-publish package (no UPE1 header); check encryption settings', 'not-encrypted');
  }
  const version = header.readUInt8(4);
  if (version !== ENCRYPTION_VERSION) {
    throw new DecryptError(`encrypted object uses format version ${version}, this build reads version ${ENCRYPTION_VERSION}; upgrade update-publish`, 'unsupported-version');
  }
  const objectKeyId = header.subarray(5, 13).toString('hex');
  const known = candidates.map((candidate) => candidate.id).join(', ') || 'none';
  if (expectedKeyId !== undefined && expectedKeyId !== objectKeyId) {
    throw new DecryptError(`object was encrypted with key ${objectKeyId}, but key ${expectedKeyId} was expected; the object does not belong to this release`, 'wrong-key');
  }
  const match = candidates.find((candidate) => candidate.id === objectKeyId);
  if (!match) {
    throw new DecryptError(`object was encrypted with key ${objectKeyId}, but the configured key${candidates.length > 1 ? 's are' : ' is'} ${known}; set encryption.key to the key with id ${objectKeyId}`, 'wrong-key');
  }
  const chunkSize = header.readUInt32BE(21);
  // The header is attacker-controlled until chunk 0 authenticates: cap what it can make us buffer.
  if (chunkSize === 0 || chunkSize > ENCRYPTION_CHUNK_SIZE) {
    throw new DecryptError(`encrypted object declares chunk size ${chunkSize} (allowed 1–${ENCRYPTION_CHUNK_SIZE}): it was altered; re-upload the package`, 'tampered');
  }
  return { key: match.key, header, sealedChunkSize: chunkSize + ENCRYPTION_TAG_SIZE };
}

function chunkNonce(header: Buffer, index: number): Buffer {
  const nonce = Buffer.alloc(12);
  header.copy(nonce, 0, 13, 21);
  nonce.writeUInt32BE(index, 8);
  return nonce;
}

function chunkAad(header: Buffer, index: number, final: boolean): Buffer {
  const trailer = Buffer.alloc(5);
  trailer.writeUInt32BE(index, 0);
  trailer.writeUInt8(final ? 1 : 0, 4);
  return Buffer.concat([header, trailer]);
}

function sealChunk(key: Buffer, header: Buffer, index: number, plain: Buffer, final: boolean): Buffer {
  const cipher = createCipheriv(CIPHER, key, chunkNonce(header, index), { authTagLength: ENCRYPTION_TAG_SIZE });
  cipher.setAAD(chunkAad(header, index, final));
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function openChunk(key: Buffer, header: Buffer, index: number, sealed: Buffer, final: boolean): Buffer {
  if (index > MAX_CHUNK_INDEX) throw new DecryptError('encrypted object has more chunks than the format allows: it was altered', 'tampered');
  const tagAt = sealed.length - ENCRYPTION_TAG_SIZE;
  const decipher = createDecipheriv(CIPHER, key, chunkNonce(header, index), { authTagLength: ENCRYPTION_TAG_SIZE });
  decipher.setAAD(chunkAad(header, index, final));
  decipher.setAuthTag(sealed.subarray(tagAt));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, tagAt)), decipher.final()]);
  } catch {
    throw new DecryptError(
      `encrypted object fails authentication at chunk ${index}: it was altered, truncated or reordered; re-upload the package`,
      'tampered',
    );
  }
}

function assertKeyLength(key: Buffer): void {
  if (key.length !== ENCRYPTION_KEY_BYTES) {
    throw new ProtocolError(`encryption key must be ${ENCRYPTION_KEY_BYTES} bytes, got ${key.length}; use decodeEncryptionKey to read it`, 'input');
  }
}
