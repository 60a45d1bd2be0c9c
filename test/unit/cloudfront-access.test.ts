/**
 * The CloudFront check serve --private runs (store/cloudfront-access.ts), on
 * credentials made by @aws-sdk/cloudfront-signer directly: canned and custom
 * policies, URLs and cookies, SHA-1 and SHA-256, and the edges of each condition.
 */
import { generateKeyPairSync } from 'node:crypto';
import { getSignedCookies, getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { describe, expect, it } from 'vitest';
import { checkSignedRequest, type AccessCheck } from '../../src/store/cloudfront-access.js';
import { resourceMatches } from '../../src/protocol/private-access.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const BASE = 'https://cdn.example.test/updates';
const check: AccessCheck = { keyPairId: 'K2JCJMDEHXQW5F', publicKey, baseUrl: BASE, scope: 'packages' };
const NOW = new Date('2026-12-06T04:00:00Z');
const epoch = (offset: number) => NOW.getTime() / 1000 + offset;
const signer = { keyPairId: 'K2JCJMDEHXQW5F', privateKey: pem };
/** The path and query a signed URL sends to the distribution (here: to serve). */
const local = (signed: string) => signed.slice(BASE.length);
const cookieHeader = (cookies: object) => Object.entries(cookies).map(([name, value]) => `${name}=${value}`).join('; ');
const policy = (resource: string, condition: Record<string, unknown>) => JSON.stringify({ Statement: [{ Resource: resource, Condition: condition }] });

describe('checkSignedRequest', () => {
  it('accepts canned URLs (other query parameters kept in the resource) and canned cookies', () => {
    const url = getSignedUrl({ ...signer, url: `${BASE}/packages/maps/full.zip?v=2`, dateLessThan: new Date(epoch(60) * 1000) });
    expect(checkSignedRequest(check, { url: local(url), now: NOW })).toBeUndefined();
    // The same signature for another query is another resource.
    expect(checkSignedRequest(check, { url: local(url).replace('v=2', 'v=3'), now: NOW })?.reason).toMatch(/signature/);
    const cookies = getSignedCookies({ ...signer, url: `${BASE}/packages/maps/full.zip`, dateLessThan: new Date(epoch(60) * 1000) });
    expect(cookies['CloudFront-Expires']).toBeDefined();
    expect(checkSignedRequest(check, { url: '/packages/maps/full.zip', cookie: cookieHeader(cookies), now: NOW })).toBeUndefined();
  });

  it('accepts SHA-256 signatures (Hash-Algorithm) and refuses an unknown algorithm', () => {
    const url = getSignedUrl({ ...signer, algorithm: 'SHA256', url: `${BASE}/packages/a.zip`, policy: policy(`${BASE}/packages/*`, { DateLessThan: { 'AWS:EpochTime': epoch(60) } }) });
    expect(url).toContain('Hash-Algorithm=SHA256');
    expect(checkSignedRequest(check, { url: local(url), now: NOW })).toBeUndefined();
    expect(checkSignedRequest(check, { url: local(url).replace('SHA256', 'MD5'), now: NOW })?.code).toBe('MalformedPolicy');
    // Claimed SHA-1 over a SHA-256 signature: no match.
    expect(checkSignedRequest(check, { url: local(url).replace('&Hash-Algorithm=SHA256', ''), now: NOW })?.reason).toMatch(/signature/);
  });

  it('holds each condition at its edge: DateLessThan is exclusive, DateGreaterThan inclusive, IpAddress by CIDR (IPv4-mapped addresses too)', () => {
    const at = (condition: Record<string, unknown>, request: { sourceIp?: string; now?: Date } = {}) => {
      const cookies = getSignedCookies({ ...signer, policy: policy(`${BASE}/packages/*`, condition) });
      return checkSignedRequest(check, { url: '/packages/a.zip', cookie: cookieHeader(cookies), now: NOW, ...request })?.reason ?? 'ok';
    };
    expect(at({ DateLessThan: { 'AWS:EpochTime': epoch(1) } })).toBe('ok');
    expect(at({ DateLessThan: { 'AWS:EpochTime': epoch(0) } })).toMatch(/expired/);
    expect(at({ DateLessThan: { 'AWS:EpochTime': epoch(60) }, DateGreaterThan: { 'AWS:EpochTime': epoch(0) } })).toBe('ok');
    expect(at({ DateLessThan: { 'AWS:EpochTime': epoch(60) }, DateGreaterThan: { 'AWS:EpochTime': epoch(1) } })).toMatch(/not yet valid/);
    const ip = { DateLessThan: { 'AWS:EpochTime': epoch(60) }, IpAddress: { 'AWS:SourceIp': '192.0.2.0/24' } };
    expect(at(ip, { sourceIp: '192.0.2.200' })).toBe('ok');
    expect(at(ip, { sourceIp: '::ffff:192.0.2.7' })).toBe('ok');
    expect(at(ip, { sourceIp: '192.0.3.1' })).toMatch(/source IP/);
    expect(at({ DateLessThan: { 'AWS:EpochTime': epoch(60) }, IpAddress: { 'AWS:SourceIp': '2001:db8::/32' } }, { sourceIp: '2001:db8::1' })).toBe('ok');
    expect(at({ DateGreaterThan: { 'AWS:EpochTime': epoch(-60) } })).toMatch(/no DateLessThan/);
  });

  it('refuses a missing, unknown or tampered credential', () => {
    expect(checkSignedRequest(check, { url: '/packages/a.zip', now: NOW })?.code).toBe('MissingKey');
    const cookies = getSignedCookies({ ...signer, policy: policy(`${BASE}/packages/*`, { DateLessThan: { 'AWS:EpochTime': epoch(60) } }) });
    expect(checkSignedRequest(check, { url: '/packages/a.zip', cookie: cookieHeader({ ...cookies, 'CloudFront-Key-Pair-Id': 'KOTHER' }), now: NOW })?.reason).toBe('Unknown Key');
    expect(checkSignedRequest(check, { url: '/packages/a.zip', cookie: cookieHeader({ ...cookies, 'CloudFront-Signature': 'AAAA' }), now: NOW })?.reason).toMatch(/signature/);
    expect(checkSignedRequest(check, { url: '/packages/a.zip', cookie: cookieHeader({ ...cookies, 'CloudFront-Policy': 'e30_' }), now: NOW })?.reason).toMatch(/signature/);
  });
});

describe('resourceMatches', () => {
  it("follows CloudFront's wildcards: * any run (slashes included), ? exactly one character, the rest literal", () => {
    expect(resourceMatches('https://d/p/*', 'https://d/p/a/b.zip')).toBe(true);
    expect(resourceMatches('https://d/p/*', 'https://d/p/')).toBe(true);
    expect(resourceMatches('https://d/p/?.zip', 'https://d/p/a.zip')).toBe(true);
    expect(resourceMatches('https://d/p/?.zip', 'https://d/p/ab.zip')).toBe(false);
    expect(resourceMatches('https://d/p/a.zip', 'https://d/p/aXzip')).toBe(false);
    expect(resourceMatches('https://d/p/*', 'https://d/q/a.zip')).toBe(false);
    expect(resourceMatches('*://d/p/*', 'https://d/p/a')).toBe(true);
  });
});
