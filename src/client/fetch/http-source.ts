import { Readable } from 'node:stream';
import { DEADLINE_BYTES_PER_SECOND, DOCUMENT_DEADLINE_MS, objectDeadlineMs } from '../../protocol/deadlines.js';
import { ProtocolError } from '../errors.js';
import { authorizeRequest, type AccessCredential } from '../../protocol/private-access.js';
import { CredentialsRefusedError, privateAccess, type CredentialsCallback, type PrivateAccess } from './private-access.js';
import { checkedKey, type UpdateSource } from './source.js';

/**
 * What a device allows a server before giving up on it: a hostile or broken
 * mirror must not hold it forever (a trickle, a silent socket) nor fill its
 * memory (an endless body).
 */
export interface TransferLimits {
  /** No byte (nor the response headers) for this long: the request is dropped. */
  stallTimeoutMs: number;
  /** After the grace period, an average below this many bytes per second drops the request. */
  minBytesPerSecond: number;
  minSpeedGraceMs: number;
  /** A document (index, manifest, whitelist) must arrive whole within this, headers included. */
  documentDeadlineMs: number;
  /** A package object gets documentDeadlineMs plus its size at this speed, across resumed requests. */
  deadlineBytesPerSecond: number;
}

export const DEFAULT_TRANSFER_LIMITS: TransferLimits = {
  stallTimeoutMs: 30_000,
  minBytesPerSecond: 1024,
  minSpeedGraceMs: 60_000,
  documentDeadlineMs: DOCUMENT_DEADLINE_MS,
  deadlineBytesPerSecond: DEADLINE_BYTES_PER_SECOND,
};

/** How often a broken object download is resumed (Range, If-Range) before giving up. */
const RESUME_ATTEMPTS = 3;

/** Reads over HTTP(S) from the base URL the store is served at (a CDN in front of the bucket). */
export interface HttpSourceOptions {
  /** A private store's credentials (signed cookies or URL), asked for before the first private request and once more on a 403. */
  credentials?: CredentialsCallback;
}

export function httpSource(baseUrl: string, limits: TransferLimits = DEFAULT_TRANSFER_LIMITS, options: HttpSourceOptions = {}): UpdateSource {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new ProtocolError(`'${baseUrl}' is not a URL; give the base URL the store is served at, e.g. https://cdn.example.com/updates/`, 'input');
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new ProtocolError(`'${baseUrl}' is not an http(s) URL; give the base URL the store is served at, e.g. https://cdn.example.com/updates/`, 'input');
  }
  // Credentials in the URL would end up in messages; they do not belong there.
  const shown = `${base.origin}${base.pathname}`;
  const urlOf = (key: string) => new URL(checkedKey(key).split('/').map(encodeURIComponent).join('/'), base);
  const access = privateAccess(options.credentials);
  const targetOf = (key: string): Target => ({ key, url: urlOf(key), access });

  return {
    location: shown,
    baseUrl: base.toString(),
    async readDocument(key, maxBytes) {
      const deadline = { at: Date.now() + limits.documentDeadlineMs, ms: limits.documentDeadlineMs };
      const transfer = await request(targetOf(key), `${shown}${key}`, limits, deadline);
      if (!transfer) return null;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of transfer.body) {
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) {
          transfer.cancel();
          throw new ProtocolError(`${key} is larger than the ${maxBytes} bytes a device reads for it: refused (an endless or swapped document)`);
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks, size);
    },
    async openObject(key, size) {
      const ms = size === undefined ? limits.documentDeadlineMs : objectDeadlineMs(size, limits.documentDeadlineMs, limits.deadlineBytesPerSecond);
      const deadline = { at: Date.now() + ms, ms };
      const first = await request(targetOf(key), `${shown}${key}`, limits, deadline);
      return first && Readable.from(resumable(first, targetOf(key), `${shown}${key}`, limits, deadline));
    },
  };
}

interface Transfer {
  body: AsyncIterable<Buffer>;
  etag: string | null;
  cancel(): void;
}

/**
 * One GET, its body guarded by the limits; null on 404. A 206 is expected
 * when `from` is given (a resumed download pinned to `etag` by If-Range).
 */
/** What one GET reads: the object's key and URL, and the store's credentials. */
interface Target {
  key: string;
  url: URL;
  access: PrivateAccess;
}

/** One GET (see send); a 403 is retried once with a fresh credential (private-access.ts). */
async function request(target: Target, shown: string, limits: TransferLimits, deadline: Deadline, resume?: { from: number; etag: string }): Promise<Transfer | null> {
  let credential = await target.access.before(target.key);
  for (let retried = false; ; retried = true) {
    const sent = await send(target, credential, shown, limits, deadline, resume);
    if (sent !== 'refused') return sent;
    if (retried) throw new CredentialsRefusedError(shown);
    credential = await target.access.afterRefusal(shown, credential);
  }
}

async function send(
  target: Target,
  credential: AccessCredential | undefined,
  shown: string,
  limits: TransferLimits,
  deadline: Deadline,
  resume?: { from: number; etag: string },
): Promise<Transfer | null | 'refused'> {
  const abort = new AbortController();
  const guard = watchdog(abort, shown, limits, deadline);
  const authorized = authorizeRequest(target.url.href, credential);
  let response: Response;
  try {
    response = await fetch(authorized.url, {
      signal: abort.signal,
      headers: { ...(authorized.cookie && { cookie: authorized.cookie }), ...(resume && { range: `bytes=${resume.from}-`, 'if-range': resume.etag }) },
    });
  } catch (error) {
    guard.stop();
    throw guard.reason() ?? new ProtocolError(`cannot reach ${shown}: ${causeOf(error)}; check the URL and the network`);
  }
  if (response.status === 403) {
    guard.stop();
    await response.body?.cancel().catch(() => undefined);
    return 'refused';
  }
  if (response.status === 404) {
    guard.stop();
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!response.ok) {
    guard.stop();
    await response.body?.cancel().catch(() => undefined);
    throw new ProtocolError(`GET ${shown} answered HTTP ${response.status}; check the URL and the CDN`);
  }
  if (resume && response.status !== 206) {
    guard.stop();
    await response.body?.cancel().catch(() => undefined);
    throw new ProtocolError(`GET ${shown} was cut and could not be resumed (the server answered ${response.status} to a Range request, or the object changed); try again`);
  }
  const body = response.body;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (!body) return;
    let complete = false;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        guard.progress(chunk.length);
        yield Buffer.from(chunk);
      }
      complete = true;
    } catch (error) {
      throw guard.reason() ?? new CutError(`the connection to ${shown} was cut mid-body (${causeOf(error)})`);
    } finally {
      guard.stop();
      // A reader that stopped early (a refused size, a failed check) must not leave the transfer running.
      if (!complete) abort.abort();
    }
  }
  return { body: chunks(), etag: response.headers.get('etag'), cancel: () => abort.abort() };
}

/** A body cut mid-way: worth resuming with a Range request. */
class CutError extends ProtocolError {}

/** An object's bytes, resumed with Range and If-Range (so a changed object is never spliced) when the connection is cut. */
async function* resumable(first: Transfer, target: Target, shown: string, limits: TransferLimits, deadline: Deadline): AsyncGenerator<Buffer> {
  let transfer = first;
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      for await (const chunk of transfer.body) {
        received += chunk.length;
        yield chunk;
      }
      return;
    } catch (error) {
      if (!(error instanceof CutError) || !transfer.etag || attempt > RESUME_ATTEMPTS) {
        throw error instanceof CutError ? new ProtocolError(`${error.message}; check the network and try again`) : error;
      }
      // An entitlement that expired meanwhile is renewed by request(): the download resumes with the fresh one.
      const next = await request(target, shown, limits, deadline, { from: received, etag: transfer.etag });
      if (!next) throw new ProtocolError(`GET ${shown} disappeared while it was being downloaded; try again`);
      transfer = { ...next, etag: transfer.etag };
    }
  }
}

/** When the whole read (all its requests) must be done, and how long that was in all, for the message. */
interface Deadline {
  at: number;
  ms: number;
}

/** Aborts the request when it stalls, crawls or passes its deadline; `reason()` says which, for the one-line refusal. */
function watchdog(abort: AbortController, shown: string, limits: TransferLimits, deadline: Deadline) {
  const started = Date.now();
  let bytes = 0;
  let reason: ProtocolError | undefined;
  const fail = (error: ProtocolError) => {
    reason ??= error;
    abort.abort(error);
  };
  const stallSeconds = Math.round(limits.stallTimeoutMs / 1000);
  let stall = setTimeout(() => fail(new ProtocolError(`GET ${shown} stalled: nothing received for ${stallSeconds} s; check the network or the CDN`)), limits.stallTimeoutMs);
  const speed = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed < limits.minSpeedGraceMs) return;
    const rate = bytes / (elapsed / 1000);
    if (rate < limits.minBytesPerSecond) {
      fail(new ProtocolError(`GET ${shown} is too slow: ${Math.round(rate)} bytes/s over ${Math.round(elapsed / 1000)} s (minimum ${limits.minBytesPerSecond}); check the network or the CDN`));
    }
  }, Math.max(50, Math.min(1000, limits.minSpeedGraceMs / 4)));
  const overall = setTimeout(
    () => fail(new ProtocolError(`GET ${shown} took longer than ${Math.round(deadline.ms / 1000)} s in all (headers included), its deadline; check the network or the CDN`)),
    Math.max(0, deadline.at - Date.now()),
  );
  stall.unref();
  speed.unref();
  overall.unref();
  return {
    progress(count: number) {
      bytes += count;
      clearTimeout(stall);
      stall = setTimeout(() => fail(new ProtocolError(`GET ${shown} stalled: nothing received for ${stallSeconds} s; check the network or the CDN`)), limits.stallTimeoutMs);
      stall.unref();
    },
    stop() {
      clearTimeout(stall);
      clearTimeout(overall);
      clearInterval(speed);
    },
    reason: () => reason,
  };
}

const causeOf = (error: unknown) => (error as { cause?: Error }).cause?.message ?? (error as Error).message;
