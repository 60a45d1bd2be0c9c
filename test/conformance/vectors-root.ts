/**
 * Conformance vectors for the root of trust (PROTOCOL.md §15): chains a
 * device follows from the root it trusts, and documents checked against the
 * newest root's signing role. Ed25519 keys from fixed seeds: the files come
 * out the same on every run.
 */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { canonicalBytes, withSignatures } from '../../src/protocol/document-signature.js';
import { rootKeyEntry, type RootDocument } from '../../src/protocol/root.js';
import { trustedKeyOf } from '../../src/protocol/signature.js';
import type { DraftCase, DraftFile } from './vectors-rules.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function key(seedByte: number) {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.alloc(32, seedByte)]), format: 'der', type: 'pkcs8' });
  const trusted = trustedKeyOf(createPublicKey(privateKey));
  const signDocument = <T extends object>(document: T) => ({ keyid: trusted.keyId, alg: 'ed25519' as const, sig: sign(null, canonicalBytes(document), privateKey).toString('base64') });
  return { trusted, signDocument };
}

type Key = ReturnType<typeof key>;
const EXPIRES = '2030-01-01T00:00:00.000Z';
const NOW = '2026-06-01T00:00:00.000Z';

function root(version: number, rootKeys: Key[], rootThreshold: number, signingKeys: Key[], signingThreshold = 1, expires = EXPIRES): RootDocument {
  return {
    type: 'root',
    version,
    expires,
    keys: Object.fromEntries([...rootKeys, ...signingKeys].map((one) => [one.trusted.keyId, rootKeyEntry(one.trusted)])),
    roles: {
      root: { keyids: rootKeys.map((one) => one.trusted.keyId), threshold: rootThreshold },
      signing: { keyids: signingKeys.map((one) => one.trusted.keyId), threshold: signingThreshold },
    },
  };
}
const signedBy = <T extends object>(document: T, keys: Key[]) => withSignatures(document, keys.map((one) => one.signDocument(document)));

export function rootVectors(): DraftFile {
  const [r1, r2, r3, s1, s2] = [11, 12, 13, 21, 22].map(key);
  const root1 = signedBy(root(1, [r1, r2], 2, [s1]), [r1, r2]);
  const root2 = signedBy(root(2, [r1, r2], 2, [s2]), [r1, r2]);
  const root3 = signedBy(root(3, [r1, r2], 2, [s2], 1), [r1, r2]);
  const index = { schemaVersion: 1, channel: 'production', version: 7, packages: {} };
  const cases: DraftCase[] = [];
  const add = (name: string, input: Record<string, unknown>, want: unknown) => cases.push({ name, check: 'root-chain', now: NOW, ...input, want });
  add('valid chain: root 1 → 2 → 3', { trusted: root1, chain: [root2, root3] }, { version: 3 });
  add('no newer root in the store: the trusted one', { trusted: root1, chain: [] }, { version: 1 });
  add('root 2 signed by one of root 1\'s two root keys (threshold 2)', { trusted: root1, chain: [signedBy(root(2, [r1, r2], 2, [s2]), [r1])] }, { error: 'under-threshold' });
  add('root 2 adds root key r3 at threshold 2, signed by r1 and r2 only: its own threshold counts r1, r2 too', { trusted: root1, chain: [signedBy(root(2, [r1, r3], 2, [s2]), [r1, r2])] }, {
    error: 'under-threshold',
  });
  add('root 2 with new root keys r3 and r1, signed by r1, r2 (root 1) and r3 (its own)', { trusted: root1, chain: [signedBy(root(2, [r1, r3], 2, [s2]), [r1, r2, r3])] }, { version: 2 });
  add('the newest root expired', { trusted: root1, chain: [signedBy(root(2, [r1, r2], 2, [s2], 1, '2026-01-01T00:00:00.000Z'), [r1, r2])] }, { error: 'expired' });
  add('rollback: root 1 served where root 3 is read after a trusted root 2', { trusted: root2, chain: [root1] }, { error: 'wrong-version' });
  add('a trusted root that does not meet its own root threshold', { trusted: signedBy(root(1, [r1, r2], 2, [s1]), [r1]) }, { error: 'under-threshold' });
  add('a root whose role has fewer keys than its threshold is malformed', { trusted: signedBy(root(1, [r1], 2, [s1]), [r1]) }, { error: 'malformed' });
  add('key removed: an index signed by s1 after root 2 trusts only s2', { trusted: root1, chain: [root2], document: signedBy(index, [s1]) }, { version: 2, document: { ok: false, reason: 'unknown-key' } });
  add('the new signing key: an index signed by s2', { trusted: root1, chain: [root2], document: signedBy(index, [s2]) }, { version: 2, document: { ok: true, keyId: s2.trusted.keyId } });
  add('signing threshold 2: one signature is not enough', { trusted: signedBy(root(1, [r1, r2], 2, [s1, s2], 2), [r1, r2]), chain: [], document: signedBy(index, [s1]) }, {
    version: 1,
    document: { ok: false, reason: 'under-threshold' },
  });
  const long: object[] = [];
  let previous = root1 as RootDocument;
  for (let version = 2; version <= 34; version++) {
    const next = signedBy(root(version, [r1, r2], 2, [s2]), [r1, r2]);
    long.push(next);
    previous = next;
  }
  void previous;
  add('33 new links in one run: bounded at 32', { trusted: root1, chain: long }, { error: 'too-many-links' });
  add('32 new links in one run: followed', { trusted: root1, chain: long.slice(0, 31) }, { version: 32 });
  return {
    name: 'root.json',
    description:
      'Root chains (PROTOCOL.md §15). `trusted` is the root the device trusts; `chain[i]` is what the store serves at root/<trusted.version + 1 + i>.root.json (absent after the last). The device checks the trusted root against its own root role, follows each link (version N+1, root role of root N and its own, each at its threshold, signatures counted per distinct key), at most 32 links per run, and refuses an expired newest root at `now`. Answer: { version } of the newest root, or { error } (malformed, under-threshold, wrong-version, expired, too-many-links). With `document`, also its §4 check against the newest root\'s signing role.',
    cases,
  };
}
