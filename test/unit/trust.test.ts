import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import archiver from 'archiver';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  createDecryptStream,
  createEncryptStream,
  DecryptError,
  ENCRYPTION_CHUNK_SIZE as C,
  ENCRYPTION_HEADER_SIZE as H,
  ENCRYPTION_TAG_SIZE as T,
  encryptedSize,
  encryptionKeyId,
} from '../../src/protocol/encryption.js';
import { loadPublicKey } from '../../src/client/trusted-keys.js';
import { generateEncryptionKey, parseEncryptionKey } from '../../src/keys/encryption-key.js';
import { generateSigningKeyPair, loadPrivateKey, writeSigningKeyPair } from '../../src/keys/signing-keys.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { canonicalBytes, checkDocumentSignature, trustedKeyFromPem, type TrustedKey } from '../../src/protocol/document-signature.js';
import { keyIdOf, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, signDocument, trustedKeyOf } from '../../src/protocol/signature.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trust-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENV = 'UPDATE_PUBLISH_TEST_KEY';
afterEach(() => {
  delete process.env[ENV];
});

describe('signing keys', () => {
  it('generates an Ed25519 pair whose key id is the same from either half', async () => {
    const pair = generateSigningKeyPair();
    expect(pair.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(pair.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    const publicKey = await loadPublicKey(pair.publicKeyPem);
    expect(publicKey.keyId).toBe(pair.keyId);
    process.env[ENV] = pair.privateKeyPem;
    expect((await loadPrivateKey(`env:${ENV}`, dir, process.env)).keyId).toBe(pair.keyId);
    expect(generateSigningKeyPair().keyId).not.toBe(pair.keyId);
  });

  it('writes the pair to a folder, private key owner-only, and refuses to overwrite it', async () => {
    const out = path.join(dir, 'keys');
    const written = await writeSigningKeyPair(out);
    expect(written.privateKeyPath).toBe(path.join(out, PRIVATE_KEY_FILE));
    expect((await stat(written.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await loadPublicKey(PUBLIC_KEY_FILE, out)).keyId).toBe(written.keyId);
    expect((await loadPrivateKey(`keys/${PRIVATE_KEY_FILE}`, dir, process.env)).keyId).toBe(written.keyId);
    await expect(writeSigningKeyPair(out)).rejects.toThrow(/already exists/);
  });

  it('reads a PEM whose newlines a CI secret store flattened to "\\n"', async () => {
    const pair = generateSigningKeyPair();
    process.env[ENV] = pair.privateKeyPem.replace(/\n/g, '\\n');
    expect((await loadPrivateKey(`env:${ENV}`, dir, process.env)).keyId).toBe(pair.keyId);
  });

  it('names the missing variable or file in a UserError', async () => {
    await expect(loadPrivateKey(`env:${ENV}`, dir, process.env)).rejects.toThrow(new RegExp(`environment variable ${ENV} is not set`));
    await expect(loadPrivateKey('env:signing-key', dir, process.env)).rejects.toThrow(/not a valid env:NAME reference/);
    const error = await loadPrivateKey('nope/key.pem', dir, process.env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(path.join(dir, 'nope/key.pem'));
    expect((error as Error).message).toContain('does not exist');
  });

  it('refuses a malformed or non-Ed25519 key without echoing it', async () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LW1hdGVyaWFs\n-----END PRIVATE KEY-----\n';
    process.env[ENV] = secret;
    const error = await loadPrivateKey(`env:${ENV}`, dir, process.env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/is not a PEM private key/);
    expect((error as Error).message).not.toContain('c2VjcmV0');

    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaFile = path.join(dir, 'rsa.pem');
    await writeFile(rsaFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(loadPrivateKey('rsa.pem', dir, process.env)).rejects.toThrow(/rsa key, not Ed25519/);
  });

  it('refuses a private key where a public key belongs', async () => {
    const pair = generateSigningKeyPair();
    await expect(loadPublicKey(pair.privateKeyPem)).rejects.toThrow(/holds a private key/);
  });
});

describe('signatures inside documents', () => {
  const document = { schemaVersion: 1, channel: 'production', version: 3, packages: { maps: { releases: [] } }, rollout: 12.5 };
  let signer: Awaited<ReturnType<typeof loadPrivateKey>>;
  let trusted: TrustedKey;
  let other: TrustedKey;
  beforeAll(async () => {
    const pair = generateSigningKeyPair();
    process.env[ENV] = pair.privateKeyPem;
    signer = await loadPrivateKey(`env:${ENV}`, dir, process.env);
    trusted = trustedKeyOf((await loadPublicKey(pair.publicKeyPem)).key);
    other = trustedKeyOf((await loadPublicKey(generateSigningKeyPair().publicKeyPem)).key);
  });

  it('carries its signatures in the document: keyid and a 64-byte Ed25519 signature over the canonical JSON without them', () => {
    const signed = signDocument(document, signer);
    expect(signed).toEqual({ ...document, signatures: [{ keyid: signer.keyId, sig: expect.any(String) }] });
    expect(Buffer.from(signed.signatures[0].sig, 'base64')).toHaveLength(64);
    // RFC 8785: members sorted, no whitespace, numbers in their shortest form.
    expect(Buffer.from(canonicalBytes(signed)).toString()).toBe('{"channel":"production","packages":{"maps":{"releases":[]}},"rollout":12.5,"schemaVersion":1,"version":3}');
    expect(trustedKeyFromPem(generateSigningKeyPair().publicKeyPem).keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('verifies whatever the member order or spacing of the stored JSON, also among several trusted keys', () => {
    const signed = signDocument(document, signer);
    const reordered = JSON.parse(JSON.stringify({ signatures: signed.signatures, version: 3, packages: signed.packages, rollout: 12.5, channel: 'production', schemaVersion: 1 }));
    expect(checkDocumentSignature(reordered, [trusted])).toEqual({ ok: true, keyId: signer.keyId });
    expect(checkDocumentSignature(signed, [other, trusted])).toEqual({ ok: true, keyId: signer.keyId });
  });

  it('fails on any changed value', () => {
    const signed = signDocument(document, signer);
    for (const tampered of [{ ...signed, version: 2 }, { ...signed, channel: 'staging' }, { ...signed, rollout: 12.6 }, { ...signed, extra: true }]) {
      expect(checkDocumentSignature(tampered, [trusted])).toMatchObject({ ok: false, reason: 'bad-signature' });
    }
  });

  it('reports a signature by an untrusted key with its key id, and an unsigned document as such', () => {
    const result = checkDocumentSignature(signDocument(document, signer), [other]);
    expect(result).toMatchObject({ ok: false, reason: 'unknown-key' });
    if (!result.ok) expect(result.message).toContain(other.keyId);
    if (!result.ok) expect(result.message).toContain(signer.keyId);
    expect(checkDocumentSignature(document, [trusted])).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(checkDocumentSignature({ ...document, signatures: [] }, [trusted])).toMatchObject({ ok: false, reason: 'unsigned' });
  });

  it('fails when a signature is relabelled with a trusted key id', () => {
    const signed = signDocument(document, signer);
    const forged = { ...signed, signatures: [{ ...signed.signatures[0], keyid: other.keyId }] };
    expect(checkDocumentSignature(forged, [other])).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects malformed signature members', () => {
    const good = signDocument(document, signer).signatures[0];
    for (const signatures of ['x', [{}], [{ ...good, sig: '%%%' }], [{ keyid: good.keyid }], [{ ...good, keyid: 'ABC' }]]) {
      expect(checkDocumentSignature({ ...document, signatures }, [trusted])).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect(checkDocumentSignature([], [trusted])).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

/** Feeds input in uneven writes, so chunk framing never lines up with stream chunks. */
async function run(transform: Transform, input: Buffer): Promise<Buffer> {
  const writes: Buffer[] = [];
  const sizes = [1, 1000, 70_000, 3, 65_536];
  for (let at = 0, i = 0; at < input.length; i++) {
    const size = sizes[i % sizes.length];
    writes.push(input.subarray(at, at + size));
    at += size;
  }
  const out: Buffer[] = [];
  await pipeline(Readable.from(writes), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out);
}

const encrypt = (plain: Buffer, key: Buffer) => run(createEncryptStream(key), plain);
const decrypt = (cipher: Buffer, keys: Buffer | Buffer[], expectedKeyId?: string) =>
  run(createDecryptStream(keys, expectedKeyId), cipher);
const decryptFailure = (cipher: Buffer, keys: Buffer | Buffer[], expectedKeyId?: string) =>
  decrypt(cipher, keys, expectedKeyId).then(
    () => expect.fail('decryption should have failed'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(DecryptError);
      return error as DecryptError;
    },
  );

/** Sealed chunk i of a ciphertext (the last one may be shorter). */
const sealedChunk = (cipher: Buffer, i: number) => cipher.subarray(H + i * (C + T), H + (i + 1) * (C + T));

describe('encryption', () => {
  const key = randomBytes(32);
  const otherKey = randomBytes(32);

  it.each([0, 1, C - 1, C, C + 1, 2 * C, 1024 * 1024 + 3])('round-trips %i bytes', async (size) => {
    const plain = randomBytes(size);
    const cipher = await encrypt(plain, key);
    expect(cipher).toHaveLength(encryptedSize(size));
    expect(cipher.subarray(0, 4).toString()).toBe('UPE1');
    expect((await decrypt(cipher, key)).equals(plain)).toBe(true);
  });

  it('uses a fresh nonce prefix per object', async () => {
    const plain = Buffer.alloc(100, 7);
    expect((await encrypt(plain, key)).equals(await encrypt(plain, key))).toBe(false);
  });

  it('hides the zip inside: no local-file signature or file text in the ciphertext', async () => {
    const archive = archiver('zip', { store: true });
    for (let i = 0; i < 20; i++) archive.append(`level ${i} map data `.repeat(500), { name: `maps/level-${i}.json` });
    const zipping = buffer(archive);
    await archive.finalize();
    const zipped = await zipping;
    const signature = Buffer.from('PK\x03\x04', 'latin1');
    expect(zipped.indexOf(signature)).toBe(0);
    const cipher = await encrypt(zipped, key);
    expect(cipher.indexOf(signature)).toBe(-1);
    expect(cipher.indexOf('level 3 map data')).toBe(-1);
    expect(cipher.indexOf('maps/level-')).toBe(-1);
    expect((await decrypt(cipher, key)).equals(zipped)).toBe(true);
  });

  it('releases plaintext chunk by chunk instead of buffering the object', async () => {
    const plain = randomBytes(5 * C);
    const cipher = await encrypt(plain, key);
    const decryptor = createDecryptStream(key);
    const released: Buffer[] = [];
    decryptor.on('data', (chunk: Buffer) => released.push(chunk));
    decryptor.write(cipher.subarray(0, H + 2 * (C + T) + 10));
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(released).equals(plain.subarray(0, 2 * C))).toBe(true);
    decryptor.destroy();

    const encryptor = createEncryptStream(key);
    let sealedBytes = 0;
    encryptor.on('data', (chunk: Buffer) => (sealedBytes += chunk.length));
    encryptor.write(plain.subarray(0, 3 * C + 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sealedBytes).toBe(H + 3 * (C + T));
    encryptor.destroy();
  });

  describe('refuses altered objects', () => {
    const plain = randomBytes(3 * C + 5); // chunks 0,1,2 full; chunk 3 final with 5 bytes
    let cipher: Buffer;
    beforeAll(async () => {
      cipher = await encrypt(plain, key);
    });

    it('with the final chunk dropped', async () => {
      expect((await decryptFailure(cipher.subarray(0, H + 3 * (C + T)), key)).reason).toBe('truncated');
    });

    it('with the empty final chunk of an exact multiple of the chunk size dropped', async () => {
      const exact = await encrypt(randomBytes(2 * C), key);
      expect(exact).toHaveLength(H + 2 * (C + T) + T);
      expect((await decryptFailure(exact.subarray(0, exact.length - T), key)).reason).toBe('truncated');
    });

    it('cut mid-chunk, inside a tag, or inside the header', async () => {
      expect((await decryptFailure(cipher.subarray(0, H + (C + T) + 1000), key)).reason).toBe('tampered');
      expect((await decryptFailure(cipher.subarray(0, H + (C + T) + 7), key)).reason).toBe('truncated');
      expect((await decryptFailure(cipher.subarray(0, cipher.length - 1), key)).reason).toBe('tampered');
      expect((await decryptFailure(cipher.subarray(0, 10), key)).reason).toBe('truncated');
      expect((await decryptFailure(Buffer.alloc(0), key)).reason).toBe('truncated');
    });

    it('with chunks reordered, dropped or appended', async () => {
      const header = cipher.subarray(0, H);
      const [c0, c1, c2, c3] = [0, 1, 2, 3].map((i) => sealedChunk(cipher, i));
      const variants = {
        swapped: [header, c1, c0, c2, c3],
        droppedMiddle: [header, c0, c2, c3],
        appendedChunk: [header, c0, c1, c2, c3, c0],
        finalTwice: [header, c0, c1, c2, c3, c3],
      };
      for (const parts of Object.values(variants)) {
        expect((await decryptFailure(Buffer.concat(parts), key)).reason).toBe('tampered');
      }
    });

    it('with any flipped byte in a chunk, a tag or the nonce', async () => {
      for (const at of [H + 5, H + C + T - 1, cipher.length - 1, 15]) {
        const flipped = Buffer.from(cipher);
        flipped[at] ^= 0x80;
        const error = await decryptFailure(flipped, key);
        expect(error.reason).toBe('tampered');
        expect(error.message).toMatch(/fails authentication at chunk \d+/);
      }
    });

    it('spliced from another object under the same key', async () => {
      const second = await encrypt(randomBytes(3 * C + 5), key);
      const spliced = Buffer.concat([cipher.subarray(0, H + C + T), sealedChunk(second, 1), cipher.subarray(H + 2 * (C + T))]);
      expect((await decryptFailure(spliced, key)).reason).toBe('tampered');
    });

    it('that are not encrypted at all', async () => {
      expect((await decryptFailure(Buffer.from('PK\x03\x04 plain zip bytes here...', 'latin1'), key)).reason).toBe('not-encrypted');
    });
  });

  it('names both key ids when the key is wrong, and picks the right key among several', async () => {
    const cipher = await encrypt(Buffer.from('secret level'), key);
    const error = await decryptFailure(cipher, otherKey);
    expect(error.reason).toBe('wrong-key');
    expect(error.message).toContain(encryptionKeyId(key));
    expect(error.message).toContain(encryptionKeyId(otherKey));
    expect((await decrypt(cipher, [otherKey, key])).toString()).toBe('secret level');
    expect((await decryptFailure(cipher, key, encryptionKeyId(otherKey))).reason).toBe('wrong-key');
    expect((await decrypt(cipher, key, encryptionKeyId(key))).toString()).toBe('secret level');
  });

  it('derives a stable key id that is not the key', () => {
    expect(encryptionKeyId(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(encryptionKeyId(Buffer.from(key))).toBe(encryptionKeyId(key));
    expect(encryptionKeyId(otherKey)).not.toBe(encryptionKeyId(key));
    expect(key.toString('hex')).not.toContain(encryptionKeyId(key));
  });
});

describe('encryption keys', () => {
  const key = randomBytes(32);

  it('reads base64, URL-safe base64 or hex from the named variable', () => {
    for (const text of [key.toString('base64'), key.toString('base64url'), key.toString('hex'), ` ${key.toString('hex').toUpperCase()}\n`]) {
      process.env[ENV] = text;
      expect(parseEncryptionKey(`env:${ENV}`, process.env).equals(key)).toBe(true);
    }
    process.env[ENV] = generateEncryptionKey();
    expect(parseEncryptionKey(`env:${ENV}`, process.env)).toHaveLength(32);
  });

  it('refuses a key of the wrong size or encoding without echoing it', () => {
    for (const text of [randomBytes(16).toString('base64'), randomBytes(33).toString('hex'), 'not a key!']) {
      process.env[ENV] = text;
      expect(() => parseEncryptionKey(`env:${ENV}`, process.env)).toThrow(UserError);
      const message = thrownMessage(() => parseEncryptionKey(`env:${ENV}`, process.env));
      expect(message).toMatch(/is not a 32-byte key/);
      expect(message).not.toContain(text);
    }
  });

  it('requires env:NAME and a set variable', () => {
    expect(() => parseEncryptionKey(`env:${ENV}`, process.env)).toThrow(new RegExp(`${ENV} is not set`));
    const literal = key.toString('base64');
    const message = thrownMessage(() => parseEncryptionKey(literal, process.env));
    expect(message).toMatch(/must be "env:NAME"/);
    expect(message).not.toContain(literal);
  });

  it('refuses to encrypt with a key that is not 32 bytes', () => {
    expect(() => createEncryptStream(randomBytes(16))).toThrow(ProtocolError);
  });
});

/** The message a synchronous call throws. */
function thrownMessage(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  return expect.fail('expected a throw');
}
