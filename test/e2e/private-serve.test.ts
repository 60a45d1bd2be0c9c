/**
 * serve --private checks CloudFront signed URLs and cookies exactly as a
 * distribution with a trusted key group does: credentials from our signer
 * (access sign) and from an independent one (botocore's CloudFrontSigner,
 * test/helpers/cloudfront_sign.py) open what the scope makes private; every
 * broken one is a 403.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';
import { BOTOCORE_SIGNER, inCi } from '../helpers/prerequisites.js';
import { botocoreUrl, PRIVATE_BASE_URL, privateProject } from '../helpers/private-store.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

afterAll(removeProjects);
// Under CI the independent signer must be there: a skip would pass silently.
if (!BOTOCORE_SIGNER.installed && inCi()) throw new Error(BOTOCORE_SIGNER.hint);

const BASE = PRIVATE_BASE_URL;
const INDEX = 'channels/production/index.json';
const FULL = 'packages/maps/1.0.0/full.zip';
const MANIFEST = 'packages/maps/1.0.0/manifest.json';
const V1 = { 'a.txt': 'alpha\n'.repeat(200), 'sub/b.txt': 'bravo\n' };

const epoch = (offsetSeconds: number) => Math.floor(Date.now() / 1000) + offsetSeconds;
/** The query of a signed URL, to send to the local server for the same key. */
const queryOf = (signed: string) => new URL(signed).search;

describe('serve --private (scope packages)', () => {
  let project: Project;
  let server: ServeProcess;
  let key: string;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, { headers });
    await response.arrayBuffer();
    return response.status;
  };
  const sign = async (...args: string[]) => succeeded(await project.run(['access', 'sign', '--json', ...args]));
  const cookieHeader = (cookies: Record<string, string>) => Object.entries(cookies).map(([name, value]) => `${name}=${value}`).join('; ');

  beforeAll(async () => {
    project = await privateProject();
    key = join(project.dir, 'keys/cloudfront-private.pem');
    server = await startServe(project.dir, ['--private']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves channel documents to anyone and package objects to no one without a credential', async () => {
    expect(await get(INDEX)).toBe(200);
    expect(await get(FULL)).toBe(403);
    expect(await get(MANIFEST)).toBe(403);
    const denied = await fetch(`${server.url}${FULL}`);
    expect(await denied.text()).toContain('<Code>MissingKey</Code>');
  });

  it('opens package objects with signed cookies and a signed URL from access sign', async () => {
    const { cookies, expires } = await sign();
    expect(Object.keys(cookies).sort()).toEqual(['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature']);
    expect(Date.parse(expires)).toBeGreaterThan(Date.now());
    expect(await get(FULL, { cookie: cookieHeader(cookies) })).toBe(200);
    expect(await get(MANIFEST, { cookie: cookieHeader(cookies) })).toBe(200);
    const { url } = await sign('--kind', 'url');
    expect(url.startsWith(`${BASE}/packages/?Policy=`)).toBe(true);
    // A wildcard policy's parameters open every object under it.
    expect(await get(`${FULL}${queryOf(url)}`)).toBe(200);
    expect(await get(`${MANIFEST}${queryOf(url)}`)).toBe(200);
  });

  it.skipIf(!BOTOCORE_SIGNER.installed)("accepts botocore's canned and custom policies (an independent signer)", async () => {
    const canned = await botocoreUrl(key, `${BASE}/${FULL}`, epoch(600));
    expect(queryOf(canned)).toMatch(/^\?Expires=\d+&Signature=[^&]+&Key-Pair-Id=K2JCJMDEHXQW5F$/);
    expect(await get(`${FULL}${queryOf(canned)}`)).toBe(200);
    // A canned policy is for its one URL only.
    expect(await get(`${MANIFEST}${queryOf(canned)}`)).toBe(403);
    const custom = await botocoreUrl(key, `${BASE}/${FULL}`, epoch(600), ['--resource', `${BASE}/packages/*`, '--ip', '127.0.0.1/32', '--date-greater-than', String(epoch(-60))]);
    expect(await get(`${MANIFEST}${queryOf(custom)}`)).toBe(200);
  });

  it.skipIf(!BOTOCORE_SIGNER.installed)('refuses expired, not-yet-valid, wrong IP, wrong resource, wrong key pair, tampered policy and tampered signature (403)', async () => {
    const refused: Record<string, number> = {};
    refused.expired = await get(`${FULL}${queryOf(await botocoreUrl(key, `${BASE}/${FULL}`, epoch(-5)))}`);
    refused.notYetValid = await get(`${FULL}${queryOf(await botocoreUrl(key, `${BASE}/${FULL}`, epoch(600), ['--date-greater-than', String(epoch(300))]))}`);
    refused.wrongIp = await get(FULL, { cookie: cookieHeader((await sign('--ip', '10.0.0.0/8')).cookies) });
    refused.wrongResource = await get(FULL, { cookie: cookieHeader((await sign('--resource', `${BASE}/packages/levels/*`)).cookies) });
    refused.botocoreWrongResource = await get(`${FULL}${queryOf(await botocoreUrl(key, `${BASE}/${FULL}`, epoch(600), ['--resource', `${BASE}/packages/levels/*`]))}`);
    refused.wrongKeyPairId = await get(`${FULL}${queryOf(await botocoreUrl(key, `${BASE}/${FULL}`, epoch(600), [], 'KOTHERKEYPAIR1'))}`);
    // The right id, signed by another key.
    const other = await makeProject({ packages: { maps: V1 } });
    succeeded(await other.run(['access', 'keys', 'generate', '--out', 'keys', '--json']));
    refused.wrongKey = await get(`${FULL}${queryOf(await botocoreUrl(join(other.dir, 'keys/cloudfront-private.pem'), `${BASE}/${FULL}`, epoch(600)))}`);
    const { cookies } = await sign();
    // Widen the policy's expiry by one digit: the signature no longer covers it.
    const policy = Buffer.from(cookies['CloudFront-Policy'].replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64').toString();
    const widened = Buffer.from(policy.replace(/"AWS:EpochTime":(\d+)/, '"AWS:EpochTime":9$1')).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
    refused.tamperedPolicy = await get(FULL, { cookie: cookieHeader({ ...cookies, 'CloudFront-Policy': widened }) });
    const signature = cookies['CloudFront-Signature'];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    refused.tamperedSignature = await get(FULL, { cookie: cookieHeader({ ...cookies, 'CloudFront-Signature': flipped }) });
    expect(refused).toEqual({
      expired: 403,
      notYetValid: 403,
      wrongIp: 403,
      wrongResource: 403,
      botocoreWrongResource: 403,
      wrongKeyPairId: 403,
      wrongKey: 403,
      tamperedPolicy: 403,
      tamperedSignature: 403,
    });
    // The same credentials, untampered and in range, are accepted: the 403s are the faults, not the set-up.
    expect(await get(FULL, { cookie: cookieHeader((await sign('--ip', '127.0.0.1')).cookies) })).toBe(200);
  });

  it('never serves history or archive documents, even with a valid credential, and never logs a credential', async () => {
    const { cookies } = await sign('--resource', `${BASE}/*`);
    const history = (await project.run(['history', '--json'])).json;
    expect(history).toBeDefined();
    const { readdir } = await import('node:fs/promises');
    const historyFiles = await readdir(project.storePath('channels/production/history'));
    expect(historyFiles.length).toBeGreaterThan(0);
    expect(await get(`channels/production/history/${historyFiles[0]}`, { cookie: cookieHeader(cookies) })).toBe(403);
    expect(await get('packages/maps/1.0.0/claim.json', { cookie: cookieHeader(cookies) })).toBe(403);
    const { url } = await sign('--kind', 'url');
    expect(await get(`${FULL}${queryOf(url)}`)).toBe(200);
    const { stderr } = await server.stop();
    expect(stderr).toContain(`GET /${FULL} 200`);
    expect(stderr).toContain(`GET /${FULL} 403`);
    expect(stderr).not.toContain(new URL(url).searchParams.get('Signature')!);
    expect(stderr).not.toContain(cookies['CloudFront-Signature']);
  });
});

describe('serve --private (scope all)', () => {
  it('needs a credential for channel documents too', async () => {
    const project = await privateProject('all');
    const server = await startServe(project.dir, ['--private']);
    try {
      expect((await fetch(`${server.url}${INDEX}`)).status).toBe(403);
      const { cookies } = succeeded(await project.run(['access', 'sign', '--json']));
      const cookie = Object.entries(cookies).map(([name, value]) => `${name}=${value}`).join('; ');
      expect((await fetch(`${server.url}${INDEX}`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${server.url}${FULL}`, { headers: { cookie } })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
