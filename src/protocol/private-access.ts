import { packagesPrefix } from './layout.js';

/**
 * Private stores (PROTOCOL.md "Private stores"): which objects need a
 * credential, and the credential a device is handed (CloudFront signed
 * cookies or a signed URL), in the shape `access sign --json` prints.
 */

/** `packages`: package objects need credentials, channel documents stay public. `all`: every object does. */
export const ACCESS_SCOPES = ['packages', 'all'] as const;
export type AccessScope = (typeof ACCESS_SCOPES)[number];

/**
 * Documents only publishers read (PROTOCOL.md §2): history, archive, pending
 * records, versioned documents' snapshots and history, version claims. They
 * name who released, and are never served to devices.
 */
export function isPublisherDocument(key: string): boolean {
  return /^channels\/[^/]+\/(archive|history|pending|switches|app-releases)\//.test(key) || /^packages\/[^/]+\/[^/]+\/claim\.json$/.test(key);
}

/** Whether a device needs a credential to read `key` under `scope`. */
export const requiresCredentials = (key: string, scope: AccessScope) => scope === 'all' || key.startsWith(packagesPrefix);

/** CloudFront's query parameters of a signed URL. */
export const SIGNED_URL_PARAMETERS = ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'] as const;
/** CloudFront's signed cookies. */
export const SIGNED_COOKIES = ['CloudFront-Expires', 'CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id', 'CloudFront-Hash-Algorithm'] as const;

/** Signed cookies to send with every private request. */
export interface CookieCredential {
  cookies: Record<string, string>;
  /** ISO-8601: when the store stops accepting them. */
  expires: string;
}

/** A signed URL: its signing parameters are sent with every private request (a wildcard policy covers them all). */
export interface UrlCredential {
  url: string;
  expires: string;
}

export type AccessCredential = CookieCredential | UrlCredential;

/**
 * The credential a credentials command (or callback) handed over, or the
 * problem with it. Only CloudFront's own names are kept, so nothing else a
 * command prints travels with requests.
 */
export function parseAccessCredential(value: unknown): AccessCredential | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'it is not a JSON object';
  const { cookies, url, expires } = value as Record<string, unknown>;
  if (typeof expires !== 'string' || expires === '') return 'it has no "expires" time';
  if (cookies !== undefined && cookies !== null && typeof cookies === 'object' && !Array.isArray(cookies)) {
    const kept = Object.fromEntries(
      Object.entries(cookies).filter(([name, text]) => (SIGNED_COOKIES as readonly string[]).includes(name) && typeof text === 'string' && CREDENTIAL_VALUE.test(text)),
    );
    if (!kept['CloudFront-Signature'] || !kept['CloudFront-Key-Pair-Id'] || !(kept['CloudFront-Policy'] || kept['CloudFront-Expires'])) {
      return '"cookies" lacks CloudFront-Signature, CloudFront-Key-Pair-Id and CloudFront-Policy (or CloudFront-Expires)';
    }
    return { cookies: kept, expires };
  }
  if (typeof url === 'string') {
    if (!signedUrlQuery(url)) return '"url" is not a signed URL (Signature, Key-Pair-Id and Policy or Expires)';
    return { url, expires };
  }
  return 'it has neither "cookies" nor "url"';
}

/** CloudFront's URL-safe base64 and decimal digits: a value that needs no escaping anywhere. */
const CREDENTIAL_VALUE = /^[A-Za-z0-9_~-]+$/;

/**
 * The signing parameters of a signed URL as they appear in it (`name=value`
 * joined by `&`, in its order, encoding untouched), or undefined when it is
 * none. Parameters with other names are left behind.
 */
export function signedUrlQuery(url: string): string | undefined {
  const hash = url.indexOf('#');
  const withoutFragment = hash === -1 ? url : url.slice(0, hash);
  const at = withoutFragment.indexOf('?');
  if (at === -1) return undefined;
  const pairs = withoutFragment
    .slice(at + 1)
    .split('&')
    .filter((pair) => (SIGNED_URL_PARAMETERS as readonly string[]).includes(pair.split('=', 1)[0]!));
  const has = (name: string) => pairs.some((pair) => pair.startsWith(`${name}=`) && pair.length > name.length + 1);
  return has('Signature') && has('Key-Pair-Id') && (has('Policy') || has('Expires')) ? pairs.join('&') : undefined;
}

/** How a request carries a credential: the signed URL's parameters appended as they are, or one Cookie header. */
export function authorizeRequest(url: string, credential: AccessCredential | undefined): { url: string; cookie?: string } {
  if (!credential) return { url };
  if ('cookies' in credential) return { url, cookie: Object.entries(credential.cookies).map(([name, value]) => `${name}=${value}`).join('; ') };
  return { url: `${url}${url.includes('?') ? '&' : '?'}${signedUrlQuery(credential.url)}` };
}

/**
 * CloudFront's match of a policy's Resource against a request URL: `*`
 * stands for any run of characters (none included, `/` included), `?` for
 * exactly one; everything else, query string included, must be equal.
 */
export function resourceMatches(pattern: string, url: string): boolean {
  const expression = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${expression}$`).test(url);
}
