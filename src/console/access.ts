import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Who may use the console: whoever holds the token printed at start (256
 * random bits, valid while this process runs). The page trades it for a
 * cookie; scripts send it as a header. Writes must come from the console's
 * own origin, so another site open in the same browser cannot drive it.
 */
export const TOKEN_HEADER = 'x-update-publish-token';
export const TOKEN_COOKIE = 'update_publish_console';

export const newToken = () => randomBytes(32).toString('base64url');

/** Strict: only our own bundled script and style; no inline code, nothing from another host, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const sameSecret = (given: string | undefined, token: string) => {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
};

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** The token the request carries: header, cookie, or (only to be traded for the cookie) the URL's `token`. */
export function requestToken(request: IncomingMessage, url: URL): { token?: string; fromUrl: boolean } {
  const header = request.headers[TOKEN_HEADER];
  if (typeof header === 'string') return { token: header, fromUrl: false };
  const cookie = cookieValue(request.headers.cookie, TOKEN_COOKIE);
  if (cookie) return { token: cookie, fromUrl: false };
  const query = url.searchParams.get('token');
  return query ? { token: query, fromUrl: true } : { fromUrl: false };
}

export const holdsToken = (given: string | undefined, token: string) => sameSecret(given, token);

/** HttpOnly (scripts never see it), SameSite=Strict (never sent from another site), scoped to the console. */
export const tokenCookie = (token: string) => `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;

/**
 * A write is ours when the browser says it comes from the console's own
 * origin. Browsers send Origin on every POST; a request without one is a
 * script (curl, CI) holding the token, which is allowed.
 */
export function foreignOrigin(request: IncomingMessage, ownOrigins: readonly string[]): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  return ownOrigins.includes(origin) ? undefined : origin;
}
