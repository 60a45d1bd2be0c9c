import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sep } from 'node:path';
import { cacheControlOf, contentTypeOf } from '../protocol/layout.js';
import { entryPathProblem } from '../protocol/path-safety.js';

/**
 * A folder store over HTTP, answering as S3 behind CloudFront does, so a
 * device pointed at it behaves as it will in production: each object's
 * Cache-Control and Content-Type by its class, a strong ETag, Last-Modified,
 * single byte ranges (206, 416), If-Range, If-None-Match / If-Modified-Since
 * (304), If-Match / If-Unmodified-Since (412), GET and HEAD only. Only files
 * inside the folder are served; anything else is 404.
 */
export interface ServedRequest {
  method: string;
  /** The request path as sent. */
  path: string;
  status: number;
  bytes: number;
}

/** What the folder store leaves beside objects while writing (temp files): never objects of the bucket. */
const WRITE_LEFTOVER = /\.partial$/;

/** Files named like keys or secrets are never served, whatever folder they were copied into (the store writes none). */
const KEY_LIKE = /(^|\/)([^/]*\.(pem|key|p8|p12|pfx|jks|keystore|der|crt)|[^/]*(private|secret|credential)[^/]*|\.env[^/]*|id_(rsa|ed25519|ecdsa)[^/]*)$/i;

export function folderRequestHandler(root: string, onServed?: (request: ServedRequest) => void) {
  const realRoot = realpath(root);
  // Checked by the caller before serving; a root removed meanwhile fails each request (500), not the process.
  realRoot.catch(() => {});
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const key = keyOf(request.url ?? '/');
    const done = (status: number, bytes = 0) => onServed?.({ method, path: request.url ?? '', status, bytes });
    try {
      if (method !== 'GET' && method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/xml' }).end(errorXml('MethodNotAllowed', 'The specified method is not allowed against this resource.'));
        return done(405);
      }
      const object = key === undefined ? undefined : await objectAt(await realRoot, key);
      if (!object) {
        response.writeHead(404, { 'content-type': 'application/xml' }).end(method === 'HEAD' ? undefined : errorXml('NoSuchKey', 'The specified key does not exist.', key));
        return done(404);
      }
      const headers: Record<string, string> = {
        'cache-control': cacheControlOf(object.key),
        'content-type': contentTypeOf(object.key),
        etag: object.etag,
        'last-modified': object.lastModified.toUTCString(),
        'accept-ranges': 'bytes',
      };
      const precondition = checkPreconditions(request, object);
      if (precondition === 412) {
        response.writeHead(412, { 'content-type': 'application/xml' }).end(method === 'HEAD' ? undefined : errorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
        return done(412);
      }
      if (precondition === 304) {
        const { 'content-type': _type, 'accept-ranges': _ranges, ...validators } = headers;
        response.writeHead(304, validators).end();
        return done(304);
      }
      const range = rangeFor(request, object);
      if (range === 'unsatisfiable') {
        response.writeHead(416, { ...headers, 'content-range': `bytes */${object.size}`, 'content-type': 'application/xml' });
        response.end(method === 'HEAD' ? undefined : errorXml('InvalidRange', 'The requested range is not satisfiable'));
        return done(416);
      }
      const [start, end] = range ?? [0, object.size - 1];
      const length = Math.max(0, end - start + 1);
      response.writeHead(range ? 206 : 200, {
        ...headers,
        'content-length': String(length),
        ...(range && { 'content-range': `bytes ${start}-${end}/${object.size}` }),
      });
      if (method === 'HEAD' || length === 0) {
        response.end();
        return done(range ? 206 : 200);
      }
      const body = createReadStream(object.path, { start, end });
      body.on('error', () => response.destroy());
      body.pipe(response);
      response.on('finish', () => done(range ? 206 : 200, length));
    } catch {
      // An unreadable file (permissions, vanished mid-way) is the server's fault, as S3's 500 is.
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/xml' }).end(errorXml('InternalError', 'We encountered an internal error. Please try again.'));
      else response.destroy();
      done(500);
    }
  };
}

interface ServedObject {
  key: string;
  path: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/** The object key of a request path, or undefined when it cannot be one (a bucket has only plain relative keys). */
export function keyOf(url: string): string | undefined {
  const path = url.split('?', 1)[0]!;
  if (!path.startsWith('/')) return undefined;
  let key: string;
  try {
    key = decodeURIComponent(path.slice(1));
  } catch {
    return undefined;
  }
  return entryPathProblem(key) === undefined && !WRITE_LEFTOVER.test(key) && !KEY_LIKE.test(key) && !key.split('/').some((segment) => segment.startsWith('.')) ? key : undefined;
}

/** The regular file a key names inside the root (never through a link out of it), or undefined. */
async function objectAt(realRoot: string, key: string): Promise<ServedObject | undefined> {
  let path: string;
  try {
    path = await realpath(`${realRoot}${sep}${key.split('/').join(sep)}`);
  } catch {
    return undefined;
  }
  if (!path.startsWith(realRoot + sep)) return undefined;
  const stats = await stat(path, { bigint: true }).catch(() => undefined);
  if (!stats?.isFile()) return undefined;
  // A file is only ever replaced by renaming a new one over it (new inode), or rewritten in place (new mtime): either changes this strong validator.
  const etag = `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
  return { key, path, size: Number(stats.size), etag, lastModified: new Date(Number(stats.mtimeMs)) };
}

/** One request header as text (Node gives repeated unknown headers as arrays). */
const headerOf = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

const etagList = (header: string) => header.split(',').map((tag) => tag.trim()).filter(Boolean);
const weakMatch = (tag: string, etag: string) => tag === '*' || tag.replace(/^W\//, '') === etag;
/** HTTP dates have whole seconds: compare at that resolution. */
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** RFC 9110 section 13.2.2, in its order: 412, 304, or undefined (go on). */
function checkPreconditions(request: IncomingMessage, object: ServedObject): 304 | 412 | undefined {
  const ifMatch = headerOf(request, 'if-match');
  const ifUnmodifiedSince = headerOf(request, 'if-unmodified-since');
  const ifNoneMatch = headerOf(request, 'if-none-match');
  const ifModifiedSince = headerOf(request, 'if-modified-since');
  if (ifMatch !== undefined) {
    if (!etagList(ifMatch).some((tag) => tag === '*' || tag === object.etag)) return 412;
  } else if (ifUnmodifiedSince !== undefined) {
    const since = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(since) && seconds(object.lastModified) > Math.floor(since / 1000)) return 412;
  }
  if (ifNoneMatch !== undefined) {
    if (etagList(ifNoneMatch).some((tag) => weakMatch(tag, object.etag))) return 304;
  } else if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    if (!Number.isNaN(since) && seconds(object.lastModified) <= Math.floor(since / 1000)) return 304;
  }
  return undefined;
}

/**
 * The byte range to send: undefined for the whole object (no Range, one S3
 * ignores such as several ranges or bad syntax, or an If-Range that no longer
 * holds), 'unsatisfiable' for 416, else [first, last] inclusive.
 */
function rangeFor(request: IncomingMessage, object: ServedObject): [number, number] | 'unsatisfiable' | undefined {
  const header = headerOf(request, 'range');
  if (header === undefined) return undefined;
  const ifRange = headerOf(request, 'if-range');
  if (ifRange !== undefined) {
    // A strong ETag must match exactly (a weak one never does); a date must be the object's Last-Modified.
    const holds = ifRange.startsWith('"') || ifRange.startsWith('W/') ? ifRange === object.etag : Date.parse(ifRange) === seconds(object.lastModified) * 1000;
    if (!holds) return undefined;
  }
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const size = object.size;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const first = Number(match[1]);
  // first-last with last < first is no valid range (ignored); an open end never is.
  if (match[2] !== '' && Number(match[2]) < first) return undefined;
  if (first >= size) return 'unsatisfiable';
  return [first, match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)];
}

const xmlEscape = (text: string) => text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);

/** The error document S3 answers with, so clients that read it see the same codes. */
export function errorXml(code: string, message: string, key?: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${key === undefined ? '' : `<Key>${xmlEscape(key)}</Key>`}</Error>`;
}
