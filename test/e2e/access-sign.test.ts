/** access keys generate, access sign and the config's `access` settings: what they write, and every bad input refused in one line (exit 2). */
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

const BASE = 'https://cdn.example.test/updates';
const ACCESS = { keyPairId: 'K2JCJMDEHXQW5F', privateKey: 'keys/cloudfront-private.pem', publicKey: 'keys/cloudfront-public.pem', baseUrl: `${BASE}/` };
const fromCloudFrontBase64 = (text: string) => Buffer.from(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');

async function projectWithKeys(access: Record<string, unknown> = ACCESS) {
  const project = await makeProject({ config: { access } });
  succeeded(await project.run(['access', 'keys', 'generate', '--out', 'keys', '--json']));
  return project;
}

describe('access keys generate', () => {
  it('writes an RSA 2048 pair CloudFront takes (SPKI public PEM, owner-only private key) and the next steps; never overwrites', async () => {
    const project = await makeProject();
    const written = succeeded(await project.run(['access', 'keys', 'generate', '--out', 'keys', '--json']));
    const publicPem = await readFile(written.publicKeyPath, 'utf8');
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(createPublicKey(publicPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPrivateKey(await readFile(written.privateKeyPath)).asymmetricKeyType).toBe('rsa');
    const { stat } = await import('node:fs/promises');
    expect((await stat(written.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect(written.next.join('\n')).toMatch(/create-public-key[\s\S]*create-key-group[\s\S]*"access"/);
    const before = await snapshotTree(join(project.dir, 'keys'));
    expectRefused(await project.run(['access', 'keys', 'generate', '--out', 'keys']), 2, /cloudfront-private\.pem already exists/);
    expect(await snapshotTree(join(project.dir, 'keys'))).toEqual(before);
  });
});

describe('access sign', () => {
  it('signs a custom policy for the packages by default (all under scope all), with expiry and IP, verifiable with the public key', async () => {
    const project = await projectWithKeys();
    const before = Date.now();
    const { cookies, expires } = succeeded(await project.run(['access', 'sign', '--ttl', '2h', '--ip', '203.0.113.0/24', '--json']));
    const policy = JSON.parse(fromCloudFrontBase64(cookies['CloudFront-Policy']).toString());
    expect(policy).toEqual({
      Statement: [{ Resource: `${BASE}/packages/*`, Condition: { DateLessThan: { 'AWS:EpochTime': Date.parse(expires) / 1000 }, IpAddress: { 'AWS:SourceIp': '203.0.113.0/24' } } }],
    });
    expect(Date.parse(expires) - before).toBeGreaterThan(7_190_000);
    expect(Date.parse(expires) - before).toBeLessThanOrEqual(7_200_000);
    const publicKey = createPublicKey(await readFile(join(project.dir, 'keys/cloudfront-public.pem')));
    expect(verify('sha1', fromCloudFrontBase64(cookies['CloudFront-Policy']), publicKey, fromCloudFrontBase64(cookies['CloudFront-Signature']))).toBe(true);
    expect(cookies['CloudFront-Key-Pair-Id']).toBe('K2JCJMDEHXQW5F');

    const { url } = succeeded(await project.run(['access', 'sign', '--kind', 'url', '--url', `${BASE}/packages/maps/1.0.0/full.zip`, '--json']));
    const signed = new URL(url);
    expect(`${signed.origin}${signed.pathname}`).toBe(`${BASE}/packages/maps/1.0.0/full.zip`);
    expect([...signed.searchParams.keys()].sort()).toEqual(['Key-Pair-Id', 'Policy', 'Signature']);

    const all = await projectWithKeys({ ...ACCESS, scope: 'all' });
    const everything = succeeded(await all.run(['access', 'sign', '--json']));
    expect(JSON.parse(fromCloudFrontBase64(everything.cookies['CloudFront-Policy']).toString()).Statement[0].Resource).toBe(`${BASE}/*`);
  });

  it('refuses bad input in one line, exit 2, and prints no credential', async () => {
    const project = await projectWithKeys();
    const refusals: [string[], RegExp][] = [
      [['--ttl', '0s'], /--ttl must be above zero/],
      [['--ttl', '366d'], /--ttl must be at most a year/],
      [['--ttl', 'soon'], /--ttl 'soon' is not a duration/],
      [['--resource', 'https://other.example.com/*'], /outside access\.baseUrl/],
      [['--resource', `${BASE}-evil/*`], /outside access\.baseUrl/],
      [['--kind', 'url', '--url', `${BASE}/channels/production/index.json`], /not covered by the resource/],
      [['--ip', '300.1.1.1'], /--ip '300\.1\.1\.1' is not an IP address/],
      [['--kind', 'token'], /Allowed choices are cookie, url/],
    ];
    for (const [args, message] of refusals) expectRefused(await project.run(['access', 'sign', ...args]), 2, message);
  });

  it('refuses a missing or unreadable key, a key pair that does not match, and bad access settings', async () => {
    const project = await projectWithKeys();
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    const withAccess = async (access: Record<string, unknown>) => writeFile(project.configPath, JSON.stringify({ ...config, access: { ...ACCESS, ...access } }));
    await withAccess({ privateKey: 'keys/missing.pem' });
    expectRefused(await project.run(['access', 'sign']), 2, /access\.privateKey: key file .*missing\.pem does not exist/);
    await writeFile(join(project.dir, 'keys/garbage.pem'), 'not a key');
    await withAccess({ privateKey: 'keys/garbage.pem' });
    expectRefused(await project.run(['access', 'sign']), 2, /access\.privateKey: .*garbage\.pem is not a PEM private key/);
    await writeFile(join(project.dir, 'keys/other.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await withAccess({ privateKey: 'keys/other.pem' });
    expectRefused(await project.run(['access', 'sign']), 2, /access\.privateKey is not the private half of access\.publicKey \(key pair id K2JCJMDEHXQW5F\)/);
    await writeFile(join(project.dir, 'keys/small.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await withAccess({ privateKey: 'keys/small.pem', publicKey: undefined });
    expectRefused(await project.run(['access', 'sign']), 2, /RSA 1024 key; CloudFront takes RSA 2048 only/);
    await withAccess({ privateKey: 'env:CF_SIGNING_KEY' });
    expectRefused(await project.run(['access', 'sign'], { env: { CF_SIGNING_KEY: undefined } }), 2, /environment variable CF_SIGNING_KEY is not set/);
    const pem = await readFile(join(project.dir, 'keys/cloudfront-private.pem'), 'utf8');
    succeeded(await project.run(['access', 'sign', '--json'], { env: { CF_SIGNING_KEY: pem } }));
    await withAccess({ keyPairId: 'k-lower', baseUrl: 'ftp://cdn', scope: 'some' });
    expectRefused(await project.run(['access', 'sign']), 2, /access\.keyPairId: keyPairId must be .*; access\.baseUrl: .*; access\.scope: scope must be "packages"/);
    const { access: _access, ...withoutAccess } = config;
    await writeFile(project.configPath, JSON.stringify(withoutAccess));
    expectRefused(await project.run(['access', 'sign']), 2, /has no "access" settings/);
    expectRefused(await project.run(['serve', '--private', '--port', '0']), 2, /has no "access" settings/);
  });
});
