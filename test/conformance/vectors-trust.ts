/**
 * Conformance vectors for trust: canonical JSON (the bytes a signature
 * covers), document signatures and key ids, and the encryption framing with
 * each way an object can be tampered with. Keys come from fixed seeds, and
 * encryption uses a fixed nonce prefix, so the files come out the same on
 * every run.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createEncryptStream, encryptionKeyId, ENCRYPTION_HEADER_SIZE, ENCRYPTION_TAG_SIZE } from '../../src/protocol/encryption.js';
import { keyIdOf, signDocument, type SigningKey } from '../../src/protocol/signature.js';
import { canonicalBytes, keyIdOfSpki, withSignatures } from '../../src/protocol/document-signature.js';
import { p256 } from '@noble/curves/nist.js';
import type { DraftCase, DraftFile } from './vectors-rules.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function signingKey(seedByte: number): { signer: SigningKey; publicPem: string } {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.alloc(32, seedByte)]), format: 'der', type: 'pkcs8' });
  return { signer: { key, keyId: keyIdOf(key) }, publicPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString() };
}

export function canonicalVectors(): DraftFile {
  const cases: DraftCase[] = [];
  const add = (name: string, input: { value?: unknown; valueText?: string }, want?: unknown) => cases.push({ name, check: 'canonical', ...input, ...(want !== undefined && { want }) });
  add('members sorted by UTF-16 code units (the emoji before U+FF5E, "10" before "2")', { value: { b: 1, a: 2, A: 3, é: 4, '😀': 5, '～': 6, '10': 7, '2': 8, '': 9 } }, {
    ok: true,
    canonical: '{"":9,"10":7,"2":8,"A":3,"a":2,"b":1,"é":4,"😀":5,"～":6}',
  });
  add('nested: arrays keep their order, objects are sorted at every level', { value: { z: [3, 1, { y: true, x: null }], a: { d: [], c: {} } } }, {
    ok: true,
    canonical: '{"a":{"c":{},"d":[]},"z":[3,1,{"x":null,"y":true}]}',
  });
  add('numbers our documents hold: integers, two-decimal percentages', {
    value: { size: 0, basis: 10000, pct: 100, half: 12.5, small: 0.29, edge: 1.1, negative: -1, max: 9007199254740991 },
  }, { ok: true, canonical: '{"basis":10000,"edge":1.1,"half":12.5,"max":9007199254740991,"negative":-1,"pct":100,"size":0,"small":0.29}' });
  add('numbers as written in the source do not matter (1.0, 1.25e1, 100e0)', { valueText: '{"a":1.0,"b":1.25e1,"c":100e0,"d":-0}' }, { ok: true, canonical: '{"a":1,"b":12.5,"c":100,"d":0}' });
  add('numbers our documents never hold (ECMAScript Number::toString: exponents from 1e21 and below 1e-6)', {
    value: { big: 1e21, below: 123456789012345680000, tiny: 1e-7, micro: 0.000001, sum: 0.1 + 0.2, min: 5e-324, max: 1.7976931348623157e308 },
  });
  add('string escapes: only ", \\ and controls below U+0020 (short forms where JSON has them)', {
    valueText: '{"s":"\\u0000\\u0001\\b\\t\\n\\f\\r\\u001f \\" \\\\ \\/ \\u007f \\u2028 \\u00e9"}',
  }, { ok: true, canonical: '{"s":"\\u0000\\u0001\\b\\t\\n\\f\\r\\u001f \\" \\\\ / \u007f \u2028 é"}' });
  add('unicode escapes in the source are written as the characters (UTF-8 in the signed bytes)', { valueText: '{"name":"Gr\\u00fc\\u00dfe \\ud83d\\ude00 \\u8bbe\\u5907"}' }, {
    ok: true,
    canonical: '{"name":"Grüße 😀 设备"}',
  });
  add('literals and empty containers', { value: { t: true, f: false, n: null, o: {}, l: [], s: '' } }, { ok: true, canonical: '{"f":false,"l":[],"n":null,"o":{},"s":"","t":true}' });
  add('the signatures member is left out', { value: { version: 1, signatures: [{ keyid: '0123456789abcdef', sig: 'AAAA' }] } }, { ok: true, canonical: '{"version":1}' });
  add('PROTOCOL.md §4 example', { valueText: '{"version":3,"channel":"production","rules":{"rollout":12.5,"platforms":["ios"]},"note":"é\\u0001"}' }, {
    ok: true,
    canonical: '{"channel":"production","note":"é\\u0001","rules":{"platforms":["ios"],"rollout":12.5},"version":3}',
  });
  add('a lone surrogate cannot be canonicalized (the document is refused)', { valueText: '{"s":"\\ud800"}' }, { ok: false });
  return {
    name: 'canonical-json.json',
    description:
      'The bytes a document signature covers: RFC 8785 (JCS) canonical JSON of the document without its `signatures` member, as UTF-8. `value` is the document, or `valueText` the JSON text to parse first. `canonical` is the expected text; `ok: false` means the document must be refused.',
    cases,
  };
}

/** A realistic signed document with values that trip naive canonicalizers. */
const INDEX_DOCUMENT = {
  schemaVersion: 1,
  channel: 'production',
  updatedAt: '2026-03-01T00:00:00.000Z',
  version: 3,
  expires: '2026-04-01T00:00:00.000Z',
  note: 'Grüße 😀 \u2028 "quoted" \\',
  packages: {
    maps: {
      releases: [
        {
          version: '1.0.1',
          releasedAt: '2026-03-01T00:00:00.000Z',
          state: 'active',
          manifest: { key: 'packages/maps/1.0.1/manifest.json', sha256: 'a'.repeat(64), size: 570 },
          full: { key: 'packages/maps/1.0.1/full.zip', size: 123, sha256: 'b'.repeat(64) },
          deltas: [],
          rules: { rollout: 12.5, rolloutBasisPoints: 1250, mandatory: false, attributes: { région: 'eu', a: 'x' } },
        },
      ],
    },
  },
};

/** A P-256 key from a fixed scalar, signing deterministically (RFC 6979): ECDSA vectors regenerate byte for byte. */
function p256Key(seedByte: number) {
  const secret = new Uint8Array(32).fill(seedByte);
  const spki = Buffer.concat([P256_SPKI_PREFIX, Buffer.from(p256.getPublicKey(secret, false))]);
  const publicPem = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`.replace('\n\n', '\n');
  const keyId = keyIdOfSpki(spki);
  const sign = <T extends object>(document: T) =>
    withSignatures(document, [{ keyid: keyId, alg: 'ecdsa-p256-sha256', sig: Buffer.from(p256.sign(canonicalBytes(document), secret, { format: 'der' })).toString('base64') }]);
  return { keyId, publicPem, sign };
}
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

export function signatureVectors(): DraftFile {
  const publisher = signingKey(1);
  const other = signingKey(2);
  const example = signingKey(7);
  const ecdsa = p256Key(3);
  const keys = { publisher: publisher.publicPem, other: other.publicPem, 'protocol-example': example.publicPem, 'ecdsa-p256': ecdsa.publicPem };
  const signed = signDocument(INDEX_DOCUMENT, publisher.signer);
  const byOther = signDocument(INDEX_DOCUMENT, other.signer);
  const [publisherSignature] = signed.signatures;
  const [otherSignature] = byOther.signatures;
  const cases: DraftCase[] = [];
  const add = (name: string, input: Record<string, unknown>, want: unknown) => cases.push({ name, check: 'signature', ...input, want });
  cases.push({ name: 'key id of the publisher key', check: 'key-id', key: 'publisher', want: { keyId: publisher.signer.keyId } });
  cases.push({ name: 'key id of the other key', check: 'key-id', key: 'other', want: { keyId: other.signer.keyId } });
  cases.push({ name: 'key id of the PROTOCOL.md §4 example key (seed of 32 bytes 07)', check: 'key-id', key: 'protocol-example', want: { keyId: '324be2dea8bc4446' } });
  add('the PROTOCOL.md §4 worked example', {
    document: { version: 1, channel: 'production', signatures: [{ keyid: '324be2dea8bc4446', sig: 'uOTZcYiagwzy18e6uy0NRLny4bnat5B2XQYz4O+NIosewoKv7T/nGsyOHzfxO34WUvlN3LXKKvYz9l3NaWTFAg==' }] },
    trusted: ['protocol-example'],
  }, { ok: true, keyId: '324be2dea8bc4446' });
  add('valid', { document: signed, trusted: ['publisher'] }, { ok: true, keyId: publisher.signer.keyId });
  add('valid whatever the member order, whitespace and escapes of the served text', {
    documentText: JSON.stringify(Object.fromEntries(Object.entries(signed).reverse()), null, 1).replace('Grüße', 'Gr\\u00fc\\u00dfe'),
    trusted: ['publisher'],
  }, { ok: true, keyId: publisher.signer.keyId });
  add('signed by a key that is not trusted', { document: byOther, trusted: ['publisher'] }, { ok: false, reason: 'unknown-key' });
  add('altered after signing (one rule changed)', {
    document: { ...signed, packages: { maps: { releases: [{ ...signed.packages.maps.releases[0], rules: { ...signed.packages.maps.releases[0].rules, rollout: 100, rolloutBasisPoints: 10000 } }] } } },
    trusted: ['publisher'],
  }, { ok: false, reason: 'bad-signature' });
  add('altered after signing (version raised)', { document: { ...signed, version: 4 }, trusted: ['publisher'] }, { ok: false, reason: 'bad-signature' });
  add('relabelled: another key\'s signature under the trusted key id', { document: { ...byOther, signatures: [{ keyid: publisher.signer.keyId, sig: otherSignature.sig }] }, trusted: ['publisher'] }, {
    ok: false,
    reason: 'bad-signature',
  });
  add('during a rotation: one of several signatures is by a trusted key', { document: { ...signed, signatures: [otherSignature, publisherSignature] }, trusted: ['publisher'] }, {
    ok: true,
    keyId: publisher.signer.keyId,
  });
  add('several trusted keys: the one that signed', { document: byOther, trusted: ['publisher', 'other'] }, { ok: true, keyId: other.signer.keyId });
  add('no signatures member', { document: INDEX_DOCUMENT, trusted: ['publisher'] }, { ok: false, reason: 'unsigned' });
  add('an empty signatures list', { document: { ...INDEX_DOCUMENT, signatures: [] }, trusted: ['publisher'] }, { ok: false, reason: 'unsigned' });
  add('signatures is not a list', { document: { ...INDEX_DOCUMENT, signatures: publisherSignature }, trusted: ['publisher'] }, { ok: false, reason: 'malformed' });
  add('a key id that is not 16 lowercase hex', { document: { ...signed, signatures: [{ ...publisherSignature, keyid: publisher.signer.keyId.toUpperCase() }] }, trusted: ['publisher'] }, {
    ok: false,
    reason: 'malformed',
  });
  add('a signature that is not base64', { document: { ...signed, signatures: [{ ...publisherSignature, sig: '!!' }] }, trusted: ['publisher'] }, { ok: false, reason: 'malformed' });
  add('a signature of the wrong length', { document: { ...signed, signatures: [{ ...publisherSignature, sig: publisherSignature.sig.slice(4) }] }, trusted: ['publisher'] }, {
    ok: false,
    reason: 'bad-signature',
  });
  // Signatures name their algorithm; ECDSA P-256 (KMS, HSMs) is DER over SHA-256 of the canonical bytes.
  const byEcdsa = ecdsa.sign(INDEX_DOCUMENT);
  const [ecdsaSignature] = byEcdsa.signatures;
  const named = { ...signed, signatures: [{ ...publisherSignature, alg: 'ed25519' }] };
  cases.push({ name: 'key id of the ECDSA P-256 key', check: 'key-id', key: 'ecdsa-p256', want: { keyId: ecdsa.keyId } });
  add('ECDSA P-256: valid (alg ecdsa-p256-sha256, DER)', { document: byEcdsa, trusted: ['ecdsa-p256'] }, { ok: true, keyId: ecdsa.keyId });
  add('ECDSA P-256: altered after signing', { document: { ...byEcdsa, version: 4 }, trusted: ['ecdsa-p256'] }, { ok: false, reason: 'bad-signature' });
  add('Ed25519 naming its algorithm', { document: named, trusted: ['publisher'] }, { ok: true, keyId: publisher.signer.keyId });
  add('a signature naming another algorithm than its key has does not verify', { document: { ...signed, signatures: [{ ...publisherSignature, alg: 'ecdsa-p256-sha256' }] }, trusted: ['publisher'] }, {
    ok: false,
    reason: 'bad-signature',
  });
  add('an algorithm devices do not know is malformed', { document: { ...signed, signatures: [{ ...publisherSignature, alg: 'rsa-pss' }] }, trusted: ['publisher'] }, { ok: false, reason: 'malformed' });
  const both = { ...INDEX_DOCUMENT, signatures: [publisherSignature, ecdsaSignature] };
  add('threshold 2: signed by two trusted keys', { document: both, trusted: ['publisher', 'ecdsa-p256'], threshold: 2 }, { ok: true, keyId: publisher.signer.keyId });
  add('threshold 2: one trusted signature is not enough', { document: signed, trusted: ['publisher', 'ecdsa-p256'], threshold: 2 }, { ok: false, reason: 'under-threshold' });
  add('threshold 2: the same key twice counts once', { document: { ...signed, signatures: [publisherSignature, publisherSignature] }, trusted: ['publisher', 'ecdsa-p256'], threshold: 2 }, {
    ok: false,
    reason: 'under-threshold',
  });
  add('threshold 2: a signature by a key not trusted (removed) counts for nothing', { document: { ...signed, signatures: [publisherSignature, otherSignature] }, trusted: ['publisher', 'ecdsa-p256'], threshold: 2 }, {
    ok: false,
    reason: 'under-threshold',
  });
  add('threshold 2: an altered document with one valid signature left is refused as altered', { document: { ...both, signatures: [publisherSignature, { ...ecdsaSignature, sig: ecdsa.sign({ x: 1 }).signatures[0].sig }] }, trusted: ['publisher', 'ecdsa-p256'], threshold: 2 }, {
    ok: false,
    reason: 'bad-signature',
  });
  add('a document that is not an object', { document: [signed], trusted: ['publisher'] }, { ok: false, reason: 'malformed' });
  add('a signed document with a member name twice is refused, even when the signature verifies for the last value', {
    documentText: JSON.stringify(signed).replace(/}$/, ',"channel":"production"}'),
    trusted: ['publisher'],
  }, { ok: false, reason: 'malformed' });
  add('a document holding a lone surrogate cannot be canonicalized', { documentText: JSON.stringify(signed).replace('Grüße', 'Gr\\ud800e'), trusted: ['publisher'] }, {
    ok: false,
    reason: 'malformed',
  });
  return {
    name: 'signatures.json',
    description:
      'Document signatures: `signatures: [{ keyid, alg, sig }]` inside the document; `alg` is `ed25519` (also when absent) or `ecdsa-p256-sha256`; sig is base64 of the Ed25519 signature, or of the DER ECDSA P-256 signature over SHA-256, of the canonical JSON (canonical-json.json) of the document without `signatures`; a signature verifies only by its key\'s algorithm; keyid is the first 16 hex digits of SHA-256 over the DER SubjectPublicKeyInfo of the public key (`keys` holds them as PEM). The check passes when signatures by `threshold` (default 1) distinct trusted keys verify. Reasons: unsigned (no or empty signatures), malformed (not an object, signatures not a list of { keyid: 16 hex, alg?: known, sig: base64 }, or not canonicalizable), unknown-key (no signature by a trusted key id), bad-signature (under the threshold and one by a trusted key does not verify), under-threshold (all verify, too few distinct trusted keys).',
    shared: { keys },
    cases,
  };
}

/** Fixed key bytes (never use such keys for real: they are public). */
const KEYS = { k1: Buffer.from(Array.from({ length: 32 }, (_, i) => i)), k2: Buffer.alloc(32, 0x42) };
const NONCE_PREFIX = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
/** Small chunks keep tampering vectors a few hundred bytes; the header says the size, so this is the real format. */
const SMALL_CHUNK = 32;

const pattern = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) % 251));

export async function seal(plain: Buffer, key: Buffer, chunkSize = SMALL_CHUNK): Promise<Buffer> {
  return buffer(Readable.from([plain]).pipe(createEncryptStream(key, { noncePrefix: NONCE_PREFIX, chunkSize })));
}

/** The exact-multiple object of the default chunk size, kept as a binary fixture. */
export const FULL_SIZE_PLAINTEXT = pattern(64 * 1024);

export async function encryptionVectors(fullSizeFixture: string): Promise<DraftFile> {
  const keys = Object.fromEntries(Object.entries(KEYS).map(([name, key]) => [name, key.toString('base64')]));
  const plain = pattern(70);
  const sealed = await seal(plain, KEYS.k1);
  const exact = await seal(pattern(64), KEYS.k1);
  const empty = await seal(Buffer.alloc(0), KEYS.k1);
  const record = SMALL_CHUNK + ENCRYPTION_TAG_SIZE;
  const chunkAt = (bytes: Buffer, i: number) => bytes.subarray(ENCRYPTION_HEADER_SIZE + i * record, ENCRYPTION_HEADER_SIZE + (i + 1) * record);
  const header = sealed.subarray(0, ENCRYPTION_HEADER_SIZE);
  const flipped = (bytes: Buffer, at: number) => {
    const copy = Buffer.from(bytes);
    copy[at] ^= 0x01;
    return copy;
  };
  const withHeaderField = (bytes: Buffer, write: (header: Buffer) => void) => {
    const copy = Buffer.from(bytes);
    write(copy);
    return copy;
  };
  const cases: DraftCase[] = [
    { name: 'key id of k1', check: 'encryption-key-id', key: 'k1', want: { keyId: encryptionKeyId(KEYS.k1) } },
    { name: 'key id of k2', check: 'encryption-key-id', key: 'k2', want: { keyId: encryptionKeyId(KEYS.k2) } },
  ];
  const add = (name: string, ciphertext: Buffer, want: unknown, input: Record<string, unknown> = {}) =>
    cases.push({ name, check: 'decrypt', keys: ['k1'], ...input, ciphertext: ciphertext.toString('base64'), want });
  const opened = (bytes: Buffer) => ({ ok: true, size: bytes.length });
  add('70 bytes in 32-byte chunks: two full chunks and a 6-byte final one', sealed, opened(plain), { plaintext: plain.toString('base64') });
  add('an exact multiple of the chunk size ends with an empty final chunk', exact, opened(pattern(64)), { plaintext: pattern(64).toString('base64') });
  add('empty plaintext: the header and one empty final chunk', empty, opened(Buffer.alloc(0)), { plaintext: '' });
  add('the key id picks the key among several', sealed, opened(plain), { keys: ['k2', 'k1'] });
  add('the key id the manifest names must be the header\'s', sealed, opened(plain), { keys: ['k1'], expectedKeyId: encryptionKeyId(KEYS.k1) });
  add('flipped byte in a chunk', flipped(sealed, ENCRYPTION_HEADER_SIZE + record + 5), { ok: false, reason: 'tampered' });
  add('flipped byte in a tag', flipped(sealed, ENCRYPTION_HEADER_SIZE + record - 1), { ok: false, reason: 'tampered' });
  add('flipped byte in the nonce prefix (the header is authenticated)', flipped(sealed, 13), { ok: false, reason: 'tampered' });
  add('chunks reordered', Buffer.concat([header, chunkAt(sealed, 1), chunkAt(sealed, 0), sealed.subarray(ENCRYPTION_HEADER_SIZE + 2 * record)]), { ok: false, reason: 'tampered' });
  add('final chunk dropped (cut at a chunk boundary)', sealed.subarray(0, ENCRYPTION_HEADER_SIZE + 2 * record), { ok: false, reason: 'truncated' });
  add('empty final chunk dropped from an exact multiple', exact.subarray(0, exact.length - ENCRYPTION_TAG_SIZE), { ok: false, reason: 'truncated' });
  add('cut inside the final chunk, shorter than a tag', sealed.subarray(0, sealed.length - 10), { ok: false, reason: 'truncated' });
  add('cut inside a full chunk (what is left is taken for a final chunk and fails)', sealed.subarray(0, ENCRYPTION_HEADER_SIZE + record + 20), { ok: false, reason: 'tampered' });
  add('a chunk appended after the final one', Buffer.concat([sealed, chunkAt(sealed, 0)]), { ok: false, reason: 'tampered' });
  add('shorter than the header', sealed.subarray(0, 10), { ok: false, reason: 'truncated' });
  add('empty object', Buffer.alloc(0), { ok: false, reason: 'truncated' });
  add('not UPE1', withHeaderField(sealed, (bytes) => bytes.write('PK\u0003\u0004', 0, 'latin1')), { ok: false, reason: 'not-encrypted' });
  add('format version 2', withHeaderField(sealed, (bytes) => bytes.writeUInt8(2, 4)), { ok: false, reason: 'unsupported-version' });
  add('the key is not one given', sealed, { ok: false, reason: 'wrong-key' }, { keys: ['k2'] });
  add('the manifest names another key id', sealed, { ok: false, reason: 'wrong-key' }, { keys: ['k1', 'k2'], expectedKeyId: encryptionKeyId(KEYS.k2) });
  add('header declares chunk size 0', withHeaderField(sealed, (bytes) => bytes.writeUInt32BE(0, 21)), { ok: false, reason: 'tampered' });
  add('header declares a chunk size over 65536', withHeaderField(sealed, (bytes) => bytes.writeUInt32BE(65537, 21)), { ok: false, reason: 'tampered' });
  add('header declares another chunk size than the object was sealed with', withHeaderField(sealed, (bytes) => bytes.writeUInt32BE(16, 21)), { ok: false, reason: 'tampered' });
  cases.push({
    name: 'default chunk size (65536): an exact multiple, so two chunks, the second empty',
    check: 'decrypt',
    keys: ['k1'],
    ciphertextFile: fullSizeFixture,
    want: { ok: true, size: FULL_SIZE_PLAINTEXT.length },
  });
  return {
    name: 'encryption.json',
    description:
      'Package objects sealed with AES-256-GCM in chunks. Header (25 bytes): "UPE1", version u8 = 1, key id (8 bytes), nonce prefix (8 bytes), chunk size u32 big-endian (1–65536). Then chunk i = ciphertext ‖ 16-byte tag with nonce = prefix ‖ i (u32be) and AAD = header ‖ i (u32be) ‖ final (u8: 1 on the last chunk, else 0). Every chunk but the last holds exactly chunk-size plaintext bytes; the last holds fewer, possibly none. Key id = first 8 bytes of HMAC-SHA256(key, "update-publish encryption key id v1"). `keys` are base64. A decrypt case gives the keys a device holds, optionally the key id its manifest names, the ciphertext (base64 or a file under files/), and expects the plaintext size and SHA-256, or ok:false with a reason: not-encrypted, unsupported-version, wrong-key, truncated (no bytes after the header, or a final record shorter than a tag), tampered (a chunk fails authentication, or a chunk size outside 1–65536).',
    shared: { keys },
    cases,
  };
}
