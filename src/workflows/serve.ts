import { appendFile, readdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ExitCode, UserError } from '../errors.js';
import { listen } from './listen.js';
import { ROOT_PREFIX } from '../protocol/root.js';
import { formatBytes } from '../format.js';
import { folderRequestHandler } from '../store/folder-http.js';
import { guardedRequestHandler, withoutCredentials, type AccessCheck } from '../store/cloudfront-access.js';
import { channelsPrefix, packagesPrefix } from '../protocol/layout.js';
import { whitelistsPrefix } from '../protocol/whitelist.js';
import type { WorkflowContext } from './context.js';

export interface ServeOptions {
  /** Address to listen on: 127.0.0.1 (this machine and its emulators) or 0.0.0.0 (phones on the network). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** serve --private: what the scope makes private needs CloudFront signed URLs or cookies. */
  access?: AccessCheck;
  /** Receipts sent to `path` are answered 204 and appended to `file`, one NDJSON line each (health reads it). */
  receipts?: { path: string; file: string };
}

export interface RunningServer {
  /** The base URL devices are given (`fetch --from`, the app's CDN setting). */
  url: string;
  /** Listening on every interface: the URLs other devices on the network use. */
  networkUrls: string[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Serves the context's folder store over HTTP exactly as S3 behind CloudFront
 * does (store/folder-http.ts), so apps and emulators can be pointed at a
 * developer's machine. Each request is logged on the output (stderr).
 */
export async function serveStore(context: Pick<WorkflowContext, 'store' | 'output'>, options: ServeOptions): Promise<RunningServer> {
  const { store, output } = context;
  const root = store.folder;
  if (root === undefined) {
    throw new UserError(`serve reads a folder store, and ${store.location} is not one; a bucket is served by its CDN (CloudFront) already, or point --store at a folder store`);
  }
  const stats = await stat(root).catch(() => null);
  if (!stats?.isDirectory()) throw new UserError(`store folder ${root} does not exist; publish first, or point --store at the folder store`);
  const strangers = await notStoreEntries(root);
  if (strangers.length > 0) {
    throw new UserError(
      `${root} is not only a store: it holds ${strangers.slice(0, 3).map((name) => `'${name}'`).join(', ')}${strangers.length > 3 ? ` and ${strangers.length - 3} more` : ''}, which serve would put on the network; point --store (or "store" in the config) at a folder that holds only channels/, packages/, whitelists/ and root/`,
    );
  }

  // A signed URL's parameters are a credential: never in the log.
  const log = ({ method, path, status, bytes }: { method: string; path: string; status: number; bytes: number }) =>
    output.info(`${method} ${withoutCredentials(path)} ${status}${bytes ? ` ${formatBytes(bytes)}` : ''}`);
  const serveFolder = guardedRequestHandler(folderRequestHandler(root, log), options.access, (request, denial) =>
    output.info(`${request.method ?? 'GET'} ${withoutCredentials(request.url ?? '')} 403 ${denial.reason}`),
  );
  const receipts = options.receipts;
  if (receipts) await appendFile(receipts.file, '').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot write the receipts log ${receipts.file}: ${error.code ?? error.message}; pass --receipts-log with a writable file`, ExitCode.failure);
  });
  const server = createServer(receipts ? receiptsHandler(receipts, serveFolder, log, output.warn) : serveFolder);
  await listen(server, options, 'cannot serve');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(options.host)}:${port}/`,
    networkUrls: isWildcard(options.host) ? networkAddresses().map((address) => `http://${urlHost(address)}:${port}/`) : [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

/**
 * What the CDN does for receipts (the CloudFront Function of `receipts
 * setup`): 204 on the receipts path, whatever the query; the log line keeps
 * the time, path and query, and no address of the device.
 */
function receiptsHandler(
  receipts: { path: string; file: string },
  next: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  log: (request: { method: string; path: string; status: number; bytes: number }) => void,
  warn: (line: string) => void,
) {
  // One append at a time, in arrival order.
  let appending = Promise.resolve();
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url ?? '/';
    const question = url.indexOf('?');
    const path = question === -1 ? url : url.slice(0, question);
    if (path !== receipts.path || (request.method !== 'GET' && request.method !== 'HEAD')) return next(request, response);
    const line = `${JSON.stringify({ at: new Date().toISOString(), path, query: question === -1 ? '' : url.slice(question + 1) })}\n`;
    appending = appending.then(() => appendFile(receipts.file, line)).catch((error: Error) => warn(`receipt not logged: ${error.message}`));
    await appending;
    response.writeHead(204, { 'cache-control': 'no-store' }).end();
    log({ method: request.method, path, status: 204, bytes: 0 });
  };
}

/** What a store holds at its top: everything else (a config, keys/, .git, the project's sources) is never served. */
const STORE_TOP_LEVEL = new Set([channelsPrefix, packagesPrefix, whitelistsPrefix, ROOT_PREFIX].map((prefix) => prefix.slice(0, -1)));

/** Entries at the root that are not part of a store layout (folders the store writes, nothing else). */
async function notStoreEntries(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((entry) => !(entry.isDirectory() && STORE_TOP_LEVEL.has(entry.name))).map((entry) => entry.name).sort();
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';

/** The host part of the URL: a wildcard address is reached as this machine; IPv6 goes in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** This machine's external IPv4 addresses: what a phone on the same network connects to. */
function networkAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry!.address);
}
