/**
 * Issue 25: keys that never leave KMS or an HSM. A publisher signs with a KMS
 * key (moto) and a local key at once, or through an external program; the
 * documents it writes are accepted by both clients and `verify`.
 */
import { CreateKeyCommand, DisableKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { spawnSync } from 'node:child_process';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { MOTO_INSTALLED } from '../helpers/s3-e2e.js';
import { startServe } from '../helpers/serve.js';
import { JAVA_INSTALLED, removeJavaClasses, runJavaClient } from '../helpers/java-client.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';
afterAll(removeJavaClasses);

/** Both clients install maps with these public keys trusted. */
async function bothClientsInstall(project: Project, publicKeys: string[], env?: Record<string, string>): Promise<void> {
  const trust = publicKeys.flatMap((file) => ['--public-key', file]);
  const node = await project.run(['fetch', 'maps', '--into', join(project.dir, 'node', 'maps'), '--json', ...trust], { env });
  expect(succeeded(node)).toMatchObject({ updated: true, version: '1.0.0' });
  if (!JAVA_INSTALLED) return;
  const server = await startServe(project.dir);
  try {
    const java = await runJavaClient(['maps', '--from', server.url, '--into', join(project.dir, 'java', 'maps'), ...trust]);
    expect(java.code, java.stderr).toBe(0);
    expect(java.json).toMatchObject({ updated: true, version: '1.0.0' });
  } finally {
    await server.stop();
  }
}

describe('an external signer (command:)', () => {
  it('signs through a program reading the bytes on stdin (ECDSA P-256 with openssl); both clients accept; a program signing with another key is refused before anything is stored', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    const run = (args: string[]) => spawnSync('openssl', args, { cwd: project.dir, encoding: 'utf8' });
    run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'hsm-ec.pem']);
    run(['pkey', '-in', 'hsm-ec.pem', '-pubout', '-out', 'hsm-public.pem']);
    await writeFile(join(project.dir, 'sign.sh'), '#!/bin/sh\nopenssl dgst -sha256 -sign hsm-ec.pem | base64 -w0\n');
    await chmod(join(project.dir, 'sign.sh'), 0o755);
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: 'command:./sign.sh', publicKey: 'hsm-public.pem' } }));

    succeeded(await project.run(['publish', '--yes', '--json']));
    const signatures = (await project.readStoreJson(INDEX)).signatures;
    expect(signatures).toEqual([{ keyid: expect.stringMatching(/^[0-9a-f]{16}$/), alg: 'ecdsa-p256-sha256', sig: expect.any(String) }]);
    expect(succeeded(await project.run(['verify', '--json'])).problems).toEqual([]);
    await bothClientsInstall(project, [join(project.dir, 'hsm-public.pem')]);

    // The program signs with a key other than the configured public key: refused, nothing stored.
    run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'hsm-ec.pem']);
    await project.write('maps', { 'a.txt': 'beta' });
    const before = await readFile(project.storePath(INDEX));
    expectRefused(await project.run(['publish', '--yes']), 2, /signing command '\.\/sign\.sh' made a signature that does not verify with its public key [0-9a-f]{16}/);
    expect(await readFile(project.storePath(INDEX))).toEqual(before);
    await writeFile(join(project.dir, 'sign.sh'), '#!/bin/sh\necho "token expired" >&2\nexit 3\n');
    expectRefused(await project.run(['publish', '--yes']), 2, /signing command '\.\/sign\.sh' exited 3: token expired; nothing was signed/);
  });
});

describe.skipIf(!MOTO_INSTALLED)('a KMS signer (moto) with a local key: signing threshold 2', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('signs every document with the KMS key and the local key; both clients accept either public key; verify passes', async () => {
    const env = { ...moto.env, AWS_ENDPOINT_URL: moto.endpoint };
    const kms = new KMSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const created = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    const arn = created.KeyMetadata!.Arn!;
    const publicDer = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: arn }))).PublicKey!);
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } }, config: { signing: { privateKey: [`kms:${arn}`, 'keys/signing-private.pem'], threshold: 2 } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    const kmsPublic = join(project.dir, 'kms-public.pem');
    await writeFile(kmsPublic, `-----BEGIN PUBLIC KEY-----\n${publicDer.toString('base64')}\n-----END PUBLIC KEY-----\n`);

    succeeded(await project.run(['publish', '--yes', '--json'], { env }));
    const signatures = (await project.readStoreJson(INDEX)).signatures;
    expect(signatures.map((signature: { alg: string }) => signature.alg)).toEqual(['ecdsa-p256-sha256', 'ed25519']);
    expect(succeeded(await project.run(['verify', '--json'], { env })).problems).toEqual([]);
    await bothClientsInstall(project, [kmsPublic], env);
    await rm(join(project.dir, 'node'), { recursive: true });
    await rm(join(project.dir, 'java'), { recursive: true, force: true });
    await bothClientsInstall(project, [join(project.dir, 'keys', 'signing-public.pem')], env);

    // A key that cannot sign, and a threshold above the keys configured: one line each, nothing written.
    const encrypting = await kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: `kms:${encrypting.KeyMetadata!.Arn}` } }));
    await project.write('maps', { 'a.txt': 'beta' });
    expectRefused(await project.run(['publish', '--yes'], { env }), 2, /KMS key .* is a ENCRYPT_DECRYPT key, not SIGN_VERIFY/);
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: 'keys/signing-private.pem', threshold: 2 } }));
    expectRefused(await project.run(['publish', '--yes'], { env }), 2, /signing\.threshold is 2 but signing\.privateKey names 1 key/);
  });
});

describe.skipIf(!MOTO_INSTALLED)('KMS signers beyond the basic path (moto, with Sign as AWS documents it: test/helpers/moto-kms.py)', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto({ faithfulKms: true });
  });
  afterAll(async () => {
    await moto?.stop();
  });
  const env = () => ({ ...moto.env, AWS_ENDPOINT_URL: moto.endpoint });
  const kmsClient = () => new KMSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  /** A KMS key of this spec, and its public key as a PEM file in the project. */
  async function kmsKey(project: Project, spec: 'ECC_NIST_P256' | 'ECC_NIST_EDWARDS25519' | 'RSA_2048' = 'ECC_NIST_P256'): Promise<{ arn: string; publicPem: string }> {
    const kms = kmsClient();
    const arn = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    const publicDer = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: arn }))).PublicKey!);
    const publicPem = join(project.dir, `kms-${spec}.pem`);
    await writeFile(publicPem, `-----BEGIN PUBLIC KEY-----\n${publicDer.toString('base64')}\n-----END PUBLIC KEY-----\n`);
    return { arn, publicPem };
  }

  it('a channel index over 4 KiB is signed as its SHA-256 digest (MessageType DIGEST); verify and both clients accept it', async () => {
    // Thirty packages: the index devices read is well over KMS's 4,096-byte limit for a RAW message.
    const packages = Object.fromEntries(['maps', ...Array.from({ length: 29 }, (_, i) => `level-pack-${String(i).padStart(2, '0')}`)].map((id) => [id, { 'a.txt': id }]));
    const project = await makeProject({ packages });
    const { arn, publicPem } = await kmsKey(project);
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: `kms:${arn}` } }));

    succeeded(await project.run(['publish', '--yes', '--json'], { env: env() }));
    const stored = await readFile(project.storePath(INDEX));
    expect(stored.length).toBeGreaterThan(6000);
    expect(JSON.parse(stored.toString('utf8')).signatures).toEqual([{ keyid: expect.stringMatching(/^[0-9a-f]{16}$/), alg: 'ecdsa-p256-sha256', sig: expect.any(String) }]);
    expect(succeeded(await project.run(['verify', '--json', '--public-key', publicPem], { env: env() })).problems).toEqual([]);
    await bothClientsInstall(project, [publicPem], env());
  });

  it('an Ed25519 KMS key (ECC_NIST_EDWARDS25519, ED25519_SHA_512 over the raw bytes): both clients accept; a document over 4 KiB is refused in one line, the index left as it was', async () => {
    const packages = Object.fromEntries(['maps', ...Array.from({ length: 29 }, (_, i) => `level-pack-${String(i).padStart(2, '0')}`)].map((id) => [id, { 'a.txt': id }]));
    const project = await makeProject({ packages });
    const { arn, publicPem } = await kmsKey(project, 'ECC_NIST_EDWARDS25519');
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: `kms:${arn}` } }));

    succeeded(await project.run(['publish', 'maps', '--yes', '--json'], { env: env() }));
    expect((await project.readStoreJson(INDEX)).signatures).toEqual([{ keyid: expect.stringMatching(/^[0-9a-f]{16}$/), alg: 'ed25519', sig: expect.any(String) }]);
    expect(succeeded(await project.run(['verify', '--json', '--public-key', publicPem], { env: env() })).problems).toEqual([]);
    await bothClientsInstall(project, [publicPem], env());

    // Ed25519 in KMS signs only RAW messages of up to 4,096 bytes (ED25519_PH_SHA_512 is Ed25519ph, which devices do not verify).
    const index = await readFile(project.storePath(INDEX));
    // Refused at the first document over the limit, after packing: the progress lines come first, the error last, no stack.
    const refused = await project.run(['publish', '--yes'], { env: env() });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^error: KMS key ${arn.replace(/[/.]/g, '\\$&')}: an Ed25519 KMS key signs at most 4096 bytes and this document is \\d+; use an ECC_NIST_P256 key$`),
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(project.storePath(INDEX))).toEqual(index);
  });

  it('a KMS key the root does not name as a signing key: one line naming both, nothing published', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    for (const dir of ['keys', 'r1']) succeeded(await project.run(['keys', 'generate', '--out', dir, '--json']));
    succeeded(
      await project.run([
        'keys', 'root', 'init', '--root-key', 'r1/signing-public.pem', '--threshold', '1',
        '--signing-key', 'keys/signing-public.pem', '--sign', 'r1/signing-private.pem', '--yes', '--json',
      ]),
    );
    const { arn } = await kmsKey(project);
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: `kms:${arn}` } }));
    const before = await snapshotTree(project.store);
    expectRefused(
      await project.run(['publish', '--yes'], { env: env() }),
      2,
      new RegExp(`KMS key ${arn.replace(/[/.]/g, '\\$&')} \\(key [0-9a-f]{16}\\) is not a signing key of root/1\\.root\\.json \\(signing keys: [0-9a-f]{16}\\): devices following the root would refuse what it signs`),
    );
    expect(await snapshotTree(project.store)).toEqual(before);
  });

  it('KMS keys that cannot sign for devices (RSA, unknown, encryption-only, disabled): one line each, nothing published', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    const withKey = (arn: string) => writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: `kms:${arn}` } }));
    const before = await snapshotTree(project.store);

    await withKey((await kmsKey(project, 'RSA_2048')).arn);
    expectRefused(await project.run(['publish', '--yes'], { env: env() }), 2, /KMS key .* is a RSA_2048 key; devices verify ECDSA P-256 \(ECC_NIST_P256, ECDSA_SHA_256\) and Ed25519: use one of those/);
    await withKey('arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000');
    expectRefused(await project.run(['publish', '--yes'], { env: env() }), 2, /KMS key arn:aws:kms:us-east-1:123456789012:key\/0{8}-.*: its public key could not be read \(NotFoundException: .*\); check the ARN, the region and the credentials \(kms:GetPublicKey\)/);
    const encrypting = await kmsClient().send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
    await withKey(encrypting.KeyMetadata!.Arn!);
    expectRefused(await project.run(['publish', '--yes'], { env: env() }), 2, /KMS key .* is a ENCRYPT_DECRYPT key, not SIGN_VERIFY/);
    // A disabled key (moto needs the key id, not the ARN, to disable it).
    const disabled = (await kmsClient().send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    await kmsClient().send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    await withKey(disabled.Arn!);
    expectRefused(
      await project.run(['publish', '--yes'], { env: env() }),
      2,
      /KMS key .*: its public key could not be read \(DisabledException: .* is disabled\.\); the key is disabled or pending deletion: enable it \(kms:EnableKey, or cancel its deletion\) or configure another key/,
    );
    expect(await snapshotTree(project.store)).toEqual(before);
  });
});
