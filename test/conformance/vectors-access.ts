import type { DraftCase, DraftFile } from './vectors-rules.js';

/** Private stores (PROTOCOL.md §21): what a request carries for a credential the app was handed. */
export function accessVectors(): DraftFile {
  const base = 'https://cdn.example.com/updates/packages/maps/1.0.0/full.zip';
  const expires = '2026-12-06T05:00:00.000Z';
  const cookies = { 'CloudFront-Policy': 'eyJTdGF0ZW1lbnQiOltdfQ__', 'CloudFront-Signature': 'c2ln~LW_', 'CloudFront-Key-Pair-Id': 'K2JCJMDEHXQW5F' };
  const signedUrl = 'https://cdn.example.com/updates/packages/?Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Key-Pair-Id=K2JCJMDEHXQW5F&Signature=c2ln~LW_';
  const authorize = (name: string, credential: unknown, want: unknown, url = base): DraftCase => ({ name, check: 'authorize', credential, url, want });
  return {
    name: 'private-access.json',
    description:
      "authorize: the credential an app was handed (what 'update-publish access sign --json' prints) applied to a request URL: signed cookies become one Cookie header (CloudFront's cookies only, in the credential's order, joined by '; '); a signed URL's Policy/Expires, Signature, Key-Pair-Id and Hash-Algorithm parameters are appended as they appear in it ('?' or '&'). Expected {url, cookie} (cookie null for a URL credential), or {refused: true} for anything that is not a credential.",
    cases: [
      authorize('signed cookies: one Cookie header, the URL unchanged', { cookies, expires }, { url: base, cookie: 'CloudFront-Policy=eyJTdGF0ZW1lbnQiOltdfQ__; CloudFront-Signature=c2ln~LW_; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F' }),
      authorize('signed cookies: other members and cookies are dropped', { cookies: { session: 'abc', ...cookies, 'CloudFront-Extra': 'x' }, expires, token: 'secret' }, { cookie: 'CloudFront-Policy=eyJTdGF0ZW1lbnQiOltdfQ__; CloudFront-Signature=c2ln~LW_; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F' }),
      authorize('canned-policy cookies (CloudFront-Expires)', { cookies: { 'CloudFront-Expires': '1796530000', 'CloudFront-Signature': 'c2ln', 'CloudFront-Key-Pair-Id': 'K2JCJMDEHXQW5F' }, expires }, { url: base }),
      authorize('signed URL: its signing parameters appended as they are', { url: signedUrl, expires }, { url: `${base}?Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Key-Pair-Id=K2JCJMDEHXQW5F&Signature=c2ln~LW_`, cookie: null }),
      authorize('signed URL: only the signing parameters travel (not its other query)', { url: `https://cdn.example.com/updates/packages/?a=1&Expires=1796530000&Signature=c2ln&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256#x`, expires }, { url: `${base}?Expires=1796530000&Signature=c2ln&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256` }),
      authorize('signed URL onto a URL with a query: joined with &', { url: signedUrl, expires }, { url: `${base}?v=2&Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Key-Pair-Id=K2JCJMDEHXQW5F&Signature=c2ln~LW_` }, `${base}?v=2`),
      authorize('refused: no expires', { cookies }, { refused: true }),
      authorize('refused: neither cookies nor url', { token: 'abc', expires }, { refused: true }),
      authorize('refused: cookies without a signature', { cookies: { 'CloudFront-Policy': 'p', 'CloudFront-Key-Pair-Id': 'K2JCJMDEHXQW5F' }, expires }, { refused: true }),
      authorize('refused: a cookie value that needs escaping is no credential', { cookies: { ...cookies, 'CloudFront-Signature': 'a;b' }, expires }, { refused: true }),
      authorize('refused: an unsigned URL', { url: 'https://cdn.example.com/updates/packages/?Policy=p', expires }, { refused: true }),
      authorize('refused: not an object', 'CloudFront-Signature=x', { refused: true }),
    ],
  };
}
