/**
 * A fault-injecting HTTP proxy for end-to-end tests, between the CLI (or an
 * SDK client) and moto_server. For a share of requests it answers 500, 503 or
 * SlowDown, refuses (ExpiredToken, AccessDenied), or resets the connection
 * mid-body; it can add latency to every request, and it counts what it saw.
 *
 * - A reset cuts a request that has a body after its first bytes (the server
 *   never sees it); a request without a body is forwarded and its response is
 *   cut after the headers and first bytes (the server did act: a lost answer).
 * - Draws come from a seeded PRNG: same seed, same sequence of decisions (the
 *   order concurrent requests arrive in is up to the machine).
 * - Bounded: close() destroys every open connection and pending delay.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from './seeded-random.js';

export type FaultKind = '500' | '503' | 'SlowDown' | 'ExpiredToken' | 'AccessDenied' | 'reset';
export const WIRE_FAULTS: FaultKind[] = ['500', '503', 'SlowDown', 'reset'];

export interface FaultProxyOptions {
  /** moto's endpoint, e.g. http://127.0.0.1:5000 */
  target: string;
  /** Share of requests that get a fault, 0..1. */
  faultRate?: number;
  faults?: FaultKind[];
  /** Added before every request is handled. */
  latencyMs?: number;
  /** Only matching requests may get a fault (default: all). */
  only?: (request: ProxiedRequest) => boolean;
  seed?: number;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as sent, e.g. /bucket/key?uploadId=… */
  url: string;
  /** Milliseconds since the proxy started. */
  at: number;
  /** The Range header, when the client asked for part of an object. */
  range?: string;
  /** x-amz-content-sha256: the payload hash the signature covers, or UNSIGNED-PAYLOAD. */
  contentSha256?: string;
  /** x-amz-checksum-sha256: the body's checksum that S3 verifies. */
  checksumSha256?: string;
  fault?: FaultKind;
}

export interface FaultProxy {
  endpoint: string;
  /** Requests seen, by HTTP method. */
  readonly requests: Record<string, number>;
  readonly log: ProxiedRequest[];
  readonly faultsInjected: Partial<Record<FaultKind, number>>;
  /** Changes fault rate, kinds or latency for the requests that follow. */
  configure(options: Partial<Omit<FaultProxyOptions, 'target' | 'seed'>>): void;
  clearCounts(): void;
  /** Resolves with the next request that matches (from now on). */
  nextRequest(matches: (request: ProxiedRequest) => boolean): Promise<ProxiedRequest>;
  close(): Promise<void>;
}

const ERROR_RESPONSES: Record<Exclude<FaultKind, 'reset'>, { status: number; code: string; message: string }> = {
  '500': { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  '503': { status: 503, code: 'ServiceUnavailable', message: 'Service is unable to handle request.' },
  SlowDown: { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  ExpiredToken: { status: 400, code: 'ExpiredToken', message: 'The provided token has expired.' },
  AccessDenied: { status: 403, code: 'AccessDenied', message: 'Access Denied' },
};

const hasBody = (request: IncomingMessage) =>
  Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = seededRandom(options.seed ?? 1);
  let settings = {
    faultRate: options.faultRate ?? 0,
    faults: options.faults ?? WIRE_FAULTS,
    latencyMs: options.latencyMs ?? 0,
    only: options.only ?? (() => true),
  };
  const requests: Record<string, number> = {};
  const log: ProxiedRequest[] = [];
  const faultsInjected: Partial<Record<FaultKind, number>> = {};
  const waiters = new Set<{ matches: (request: ProxiedRequest) => boolean; resolve: (request: ProxiedRequest) => void }>();
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const startedAt = Date.now();

  const drawFault = (request: ProxiedRequest): FaultKind | undefined => {
    // Always two draws per request, so one request's outcome does not shift the next one's.
    const hit = random() < settings.faultRate;
    const pick = settings.faults[Math.floor(random() * settings.faults.length)];
    return hit && settings.only(request) ? pick : undefined;
  };

  function answerError(kind: Exclude<FaultKind, 'reset'>, request: IncomingMessage, response: ServerResponse) {
    const { status, code, message } = ERROR_RESPONSES[kind];
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
    // Read the whole request first: answering mid-upload would be a reset, not an error.
    request.resume();
    request.once('end', () => {
      response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
  }

  function forward(request: IncomingMessage, response: ServerResponse, cutResponse: boolean) {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        if (cutResponse) {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.once('data', (chunk: Buffer) => {
            // Cut only once the headers and half a chunk are on the wire: the client has a response, then loses it.
            response.write(chunk.subarray(0, Math.ceil(chunk.length / 2)), () => response.socket?.destroy());
          });
          // No body at all: the answer is simply lost.
          answer.once('end', () => response.socket?.destroy());
          answer.resume();
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502).end();
      else response.socket?.destroy();
    });
    request.pipe(upstream);
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const record: ProxiedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      at: Date.now() - startedAt,
      range: request.headers.range,
      contentSha256: request.headers['x-amz-content-sha256'] as string | undefined,
      checksumSha256: request.headers['x-amz-checksum-sha256'] as string | undefined,
    };
    log.push(record);
    requests[record.method] = (requests[record.method] ?? 0) + 1;
    for (const waiter of waiters) {
      if (waiter.matches(record)) {
        waiters.delete(waiter);
        waiter.resolve(record);
      }
    }
    record.fault = drawFault(record);
    if (record.fault) faultsInjected[record.fault] = (faultsInjected[record.fault] ?? 0) + 1;
    if (settings.latencyMs > 0) {
      request.pause();
      await sleep(settings.latencyMs, undefined, { signal: closing.signal }).catch(() => undefined);
      if (closing.signal.aborted) return void request.socket.destroy();
    }
    if (record.fault === 'reset') {
      if (hasBody(request)) {
        request.once('data', () => request.socket.destroy());
        request.resume();
      } else {
        forward(request, response, true);
      }
    } else if (record.fault) {
      answerError(record.fault, request, response);
    } else {
      forward(request, response, false);
    }
  }

  const server = createServer((request, response) => void handle(request, response));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    log,
    faultsInjected,
    configure(next) {
      settings = { ...settings, ...next };
    },
    clearCounts() {
      log.length = 0;
      for (const key of Object.keys(requests)) delete requests[key];
      for (const key of Object.keys(faultsInjected)) delete faultsInjected[key as FaultKind];
    },
    nextRequest: (matches) => new Promise((resolve) => waiters.add({ matches, resolve })),
    async close() {
      closing.abort();
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
