import { verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { isPublisherDocument, requiresCredentials, resourceMatches, SIGNED_URL_PARAMETERS, type AccessScope } from '../protocol/private-access.js';
import { errorXml, keyOf } from './folder-http.js';

/**
 * What CloudFront does at a cache behaviour with a trusted key group, for
 * `serve --private`: a signed URL (its query) or signed cookies must carry
 * the key group's key pair id, a signature over the policy by that key, and a
 * policy that holds for this request (resource, DateLessThan, DateGreaterThan,
 * IpAddress). Canned and custom policies, SHA-1 and SHA-256 signatures.
 */
export interface AccessCheck {
  keyPairId: string;
  publicKey: KeyObject;
  /** Requests are matched against policies as if they arrived at this URL (the distribution's, with the store's prefix). */
  baseUrl: string;
  scope: AccessScope;
}

export interface SignedRequest {
  /** Path and query as sent. */
  url: string;
  cookie?: string;
  /** The client's address as the socket gives it. */
  sourceIp?: string;
  now?: Date;
}

/** undefined: allowed. Else why not, in CloudFront's words (never the credential). */
export type AccessDenial = { code: 'MissingKey' | 'AccessDenied' | 'MalformedPolicy'; reason: string };

export function checkSignedRequest(check: AccessCheck, request: SignedRequest): AccessDenial | undefined {
  const [path, query = ''] = splitQuery(request.url);
  const parameters = new URLSearchParams(query);
  const fromUrl = SIGNED_URL_PARAMETERS.some((name) => parameters.has(name));
  const cookies = cookiesOf(request.cookie);
  const read = fromUrl ? (name: string) => parameters.get(name) ?? undefined : (name: string) => cookies.get(`CloudFront-${name}`);
  const keyPairId = read('Key-Pair-Id');
  const signature = read('Signature');
  if (!keyPairId) return { code: 'MissingKey', reason: 'Missing Key-Pair-Id query parameter or cookie value' };
  if (keyPairId !== check.keyPairId) return { code: 'AccessDenied', reason: 'Unknown Key' };
  if (!signature) return { code: 'MissingKey', reason: 'Missing Signature query parameter or cookie value' };
  const hashAlgorithm = read('Hash-Algorithm') ?? 'SHA1';
  if (hashAlgorithm !== 'SHA1' && hashAlgorithm !== 'SHA256') return { code: 'MalformedPolicy', reason: 'Unsupported Hash-Algorithm' };

  // The resource is the URL as the distribution saw it, without the signing parameters.
  const restQuery = fromUrl ? withoutSigningParameters(query) : query;
  const resource = `${check.baseUrl}${path}${restQuery ? `?${restQuery}` : ''}`;

  const encodedPolicy = read('Policy');
  const expires = read('Expires');
  let policyText: string;
  if (encodedPolicy !== undefined) {
    policyText = fromCloudFrontBase64(encodedPolicy).toString('utf8');
  } else if (expires !== undefined && /^\d+$/.test(expires)) {
    // A canned policy is rebuilt exactly as CloudFront's documentation spells it, byte for byte.
    policyText = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  } else {
    return { code: 'MalformedPolicy', reason: 'Missing Policy or Expires' };
  }
  const signatureBytes = fromCloudFrontBase64(signature);
  let verified = false;
  try {
    verified = verify(hashAlgorithm === 'SHA256' ? 'sha256' : 'sha1', Buffer.from(policyText, 'utf8'), check.publicKey, signatureBytes);
  } catch {
    // A signature of the wrong length is no signature.
  }
  if (!verified) return { code: 'AccessDenied', reason: 'Access denied (the signature does not match the policy)' };

  let statement: Record<string, any>;
  try {
    const policy = JSON.parse(policyText) as { Statement?: unknown };
    if (!Array.isArray(policy.Statement) || policy.Statement.length !== 1 || typeof policy.Statement[0] !== 'object' || policy.Statement[0] === null) throw new Error();
    statement = policy.Statement[0] as Record<string, any>;
  } catch {
    return { code: 'MalformedPolicy', reason: 'Malformed Policy' };
  }
  const nowSeconds = Math.floor((request.now ?? new Date()).getTime() / 1000);
  const condition = (statement.Condition ?? {}) as Record<string, any>;
  const lessThan = condition.DateLessThan?.['AWS:EpochTime'];
  if (!Number.isInteger(lessThan)) return { code: 'MalformedPolicy', reason: 'Malformed Policy (no DateLessThan)' };
  if (nowSeconds >= lessThan) return { code: 'AccessDenied', reason: 'Access denied (expired)' };
  const greaterThan = condition.DateGreaterThan?.['AWS:EpochTime'];
  if (greaterThan !== undefined && (!Number.isInteger(greaterThan) || nowSeconds < greaterThan)) return { code: 'AccessDenied', reason: 'Access denied (not yet valid)' };
  const sourceIp = condition.IpAddress?.['AWS:SourceIp'];
  if (sourceIp !== undefined && !inCidr(sourceIp, request.sourceIp)) return { code: 'AccessDenied', reason: 'Access denied (source IP)' };
  // Without a Resource, a custom policy opens every object the key group guards.
  if (statement.Resource !== undefined && (typeof statement.Resource !== 'string' || !resourceMatches(statement.Resource, resource))) {
    return { code: 'AccessDenied', reason: 'Access denied (resource)' };
  }
  return undefined;
}

/**
 * Wraps the folder store's handler: publisher-only documents (history,
 * archive, pending, snapshots, claims) are refused to everyone; with a check,
 * what its scope makes private needs a valid signed URL or signed cookies.
 */
export function guardedRequestHandler(
  serve: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  check: AccessCheck | undefined,
  onDenied: (request: IncomingMessage, denial: AccessDenial) => void,
) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const key = keyOf(request.url ?? '/');
    const method = request.method ?? 'GET';
    const denial: AccessDenial | undefined =
      key === undefined || (method !== 'GET' && method !== 'HEAD')
        ? undefined
        : isPublisherDocument(key)
          ? { code: 'AccessDenied', reason: 'Access denied (publisher documents are never served to devices)' }
          : check && requiresCredentials(key, check.scope)
            ? checkSignedRequest(check, { url: request.url ?? '/', cookie: headerText(request.headers.cookie), sourceIp: request.socket.remoteAddress })
            : undefined;
    if (!denial) return serve(request, response);
    const message = denial.code === 'AccessDenied' ? 'Access denied' : denial.reason;
    response.writeHead(403, { 'content-type': 'application/xml' }).end(method === 'HEAD' ? undefined : errorXml(denial.code, message));
    onDenied(request, denial);
  };
}

/** A request's path and query, the signing parameters left out: what may be logged. */
export function withoutCredentials(url: string): string {
  const [path, query] = splitQuery(url);
  const kept = query === undefined ? '' : withoutSigningParameters(query);
  return kept ? `${path}?${kept}` : path;
}

/** The query's other parameters as sent (their encoding kept: the policy's resource is compared byte for byte). */
function withoutSigningParameters(query: string): string {
  const isSigning = (pair: string) => {
    const name = pair.split('=', 1)[0]!;
    return (SIGNED_URL_PARAMETERS as readonly string[]).includes(name);
  };
  return query
    .split('&')
    .filter((pair) => pair !== '' && !isSigning(pair))
    .join('&');
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join('; ') : value);

function splitQuery(url: string): [string, string | undefined] {
  const at = url.indexOf('?');
  return at === -1 ? [url, undefined] : [url.slice(0, at), url.slice(at + 1)];
}

function cookiesOf(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of (header ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  return cookies;
}

/** CloudFront's URL-safe base64: '-' for '+', '_' for '=', '~' for '/'. */
const fromCloudFrontBase64 = (text: string) => Buffer.from(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');

function inCidr(cidr: unknown, address: string | undefined): boolean {
  if (typeof cidr !== 'string' || !address) return false;
  const ip = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const [network, mask] = cidr.split('/');
  const family = isIP(network ?? '');
  if (!family) return false;
  const prefix = mask === undefined ? (family === 4 ? 32 : 128) : Number(mask);
  const block = new BlockList();
  try {
    block.addSubnet(network!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  const ipFamily = isIP(ip);
  return ipFamily !== 0 && block.check(ip, ipFamily === 4 ? 'ipv4' : 'ipv6');
}
