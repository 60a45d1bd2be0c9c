import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { AccessConfig } from '../config/access-schema.js';
import { UserError } from '../errors.js';
import { resourceMatches, type AccessCredential } from '../protocol/private-access.js';

/** What `access sign` hands a device: signed cookies, or a signed URL whose parameters it sends with each request. */
export type CredentialKind = 'cookie' | 'url';
export const CREDENTIAL_KINDS: CredentialKind[] = ['cookie', 'url'];

/** CloudFront accepts any expiry; an entitlement longer than a year is a leaked credential waiting to happen. */
export const MAX_CREDENTIAL_TTL_MS = 365 * 86_400_000;

export interface SignOptions {
  kind: CredentialKind;
  ttlMs: number;
  /** Policy resource (wildcards `*`, `?`); default: what `scope` makes private. */
  resource?: string;
  /** The URL a signed URL is for (kind url); default: the resource up to its first wildcard. */
  url?: string;
  /** Only requests from this CIDR are accepted. */
  ip?: string;
  now?: Date;
}

/** The policy's resource for a store: its packages, or everything under scope `all`. */
export const defaultResource = (access: Pick<AccessConfig, 'baseUrl' | 'scope'>) => `${access.baseUrl}/${access.scope === 'all' ? '' : 'packages/'}*`;

/** Every problem with the request, checked before any key is read. */
export function signProblem(access: Pick<AccessConfig, 'baseUrl' | 'scope'>, options: SignOptions): string | undefined {
  if (!(options.ttlMs > 0)) return `--ttl must be above zero, e.g. 1h`;
  if (options.ttlMs > MAX_CREDENTIAL_TTL_MS) return `--ttl must be at most a year (365d); hand devices shorter entitlements and refresh them`;
  const resource = options.resource ?? defaultResource(access);
  if (!resource.startsWith(`${access.baseUrl}/`)) return `--resource '${resource}' is outside access.baseUrl ${access.baseUrl}/; give a pattern under it, e.g. ${defaultResource(access)}`;
  if (options.url !== undefined) {
    if (options.kind !== 'url') return `--url applies to --kind url; signed cookies cover --resource`;
    if (!options.url.startsWith(`${access.baseUrl}/`)) return `--url '${options.url}' is outside access.baseUrl ${access.baseUrl}/`;
    if (!resourceMatches(resource, options.url)) return `--url '${options.url}' is not covered by the resource ${resource}; CloudFront would refuse it`;
  }
  if (options.ip !== undefined && cidrOf(options.ip) === undefined) return `--ip '${options.ip}' is not an IP address or CIDR block, e.g. 203.0.113.0/24`;
  return undefined;
}

/**
 * Signs a custom policy (resource, expiry, optional source IP) with the
 * CloudFront private key, through @aws-sdk/cloudfront-signer. Returns what
 * `access sign --json` prints and a credentials command hands a device.
 */
export async function signAccess(
  access: Pick<AccessConfig, 'baseUrl' | 'scope'>,
  key: { keyPairId: string; privateKey: KeyObject },
  options: SignOptions,
): Promise<AccessCredential> {
  const problem = signProblem(access, options);
  if (problem) throw new UserError(problem);
  const resource = options.resource ?? defaultResource(access);
  const expiresAt = Math.floor(((options.now ?? new Date()).getTime() + options.ttlMs) / 1000);
  const condition: Record<string, unknown> = { DateLessThan: { 'AWS:EpochTime': expiresAt } };
  if (options.ip !== undefined) condition.IpAddress = { 'AWS:SourceIp': cidrOf(options.ip) };
  const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: condition }] });
  const signer = { keyPairId: key.keyPairId, privateKey: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, policy };
  const expires = new Date(expiresAt * 1000).toISOString();
  // Loaded only to sign: every other command starts without the SDK.
  const { getSignedCookies, getSignedUrl } = await import('@aws-sdk/cloudfront-signer');
  if (options.kind === 'url') {
    return { url: getSignedUrl({ ...signer, url: options.url ?? resource.replace(/[*?].*$/, '') }), expires };
  }
  const cookies = getSignedCookies(signer);
  return {
    cookies: {
      'CloudFront-Policy': cookies['CloudFront-Policy']!,
      'CloudFront-Signature': cookies['CloudFront-Signature'],
      'CloudFront-Key-Pair-Id': cookies['CloudFront-Key-Pair-Id'],
    },
    expires,
  };
}

/** `a.b.c.d/n` or an IPv6 block; a bare address is its own /32 (/128). */
function cidrOf(text: string): string | undefined {
  const [address, mask, ...rest] = text.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length > 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (mask === undefined) return `${address}/${max}`;
  if (!/^\d{1,3}$/.test(mask) || Number(mask) > max) return undefined;
  return `${address}/${Number(mask)}`;
}
