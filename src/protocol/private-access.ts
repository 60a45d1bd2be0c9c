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
  if (typeof expires !== 'string' || Number.isNaN(Date.parse(expires))) return 'it has no "expires" time';
  if (cookies !== undefined) {
    if (cookies === null || typeof cookies !== 'object' || Array.isArray(cookies)) return '"cookies" is not an object of cookie values';
    const kept = Object.fromEntries(
      Object.entries(cookies).filter(([name, text]) => (SIGNED_COOKIES as readonly string[]).includes(name) && typeof text === 'string' && /^[A-Za-z0-9_~\-]+$/.test(text)),
    );
    if (!kept['CloudFront-Signature'] || !kept['CloudFront-Key-Pair-Id'] || !(kept['CloudFront-Policy'] || kept['CloudFront-Expires'])) {
      return '"cookies" lacks CloudFront-Signature, CloudFront-Key-Pair-Id and CloudFront-Policy (or CloudFront-Expires)';
    }
    return { cookies: kept, expires };
  }
  if (typeof url === 'string') {
    const parameters = signedUrlParameters(url);
    if (!parameters) return '"url" is not a signed URL (Signature, Key-Pair-Id and Policy or Expires)';
    return { url, expires };
  }
  return 'it has neither "cookies" nor "url"';
}

/** The signing parameters of a signed URL, or undefined when it is none. */
export function signedUrlParameters(url: string): [string, string][] | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const found = SIGNED_URL_PARAMETERS.flatMap((name) => {
    const value = parsed.searchParams.get(name);
    return value === null ? [] : [[name, value] as [string, string]];
  });
  const has = (name: string) => found.some(([found]) => found === name);
  return has('Signature') && has('Key-Pair-Id') && (has('Policy') || has('Expires')) ? found : undefined;
}

/** How a request carries a credential: the URL's signing parameters added, or the Cookie header. */
export function authorizeRequest(url: URL, credential: AccessCredential | undefined): { url: URL; headers: Record<string, string> } {
  if (!credential) return { url, headers: {} };
  if ('cookies' in credential) {
    return { url, headers: { cookie: Object.entries(credential.cookies).map(([name, value]) => `${name}=${value}`).join('; ') } };
  }
  const signed = new URL(url);
  for (const [name, value] of signedUrlParameters(credential.url) ?? []) signed.searchParams.set(name, value);
  return { url: signed, headers: {} };
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
