import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConflictError, ExitCode, UserError } from '../errors.js';
import type { Output, Step } from '../output.js';
import type { Store } from '../store/store.js';
import { listen } from '../workflows/listen.js';
import { CONTENT_SECURITY_POLICY, foreignOrigin, holdsToken, newToken, requestToken, tokenCookie } from './access.js';
import { runAction, type ActionBody, type ActionRuntime } from './actions.js';
import { healthKey, type HealthReader, type ReleaseHealth } from './health.js';
import { appReleasesContent, switchesContent, type AppReleasesData, type SwitchesData } from './pages/documents.js';
import { renderPage, type PageFrame } from './pages/layout.js';
import { healthContent, historyContent, whitelistsContent } from './pages/lists.js';
import type { Markup } from './pages/markup.js';
import { overviewContent } from './pages/overview.js';
import { releaseContent } from './pages/release.js';
import { channelView, ConsoleState } from './state.js';

export interface ConsoleOptions {
  /** 127.0.0.1 unless told otherwise: the console changes releases, so it stays on this machine by default. */
  host: string;
  port: number;
  readOnly: boolean;
  /** Recorded in history for every write: `console:<os user>`. */
  actor: string;
  /** Device outcomes, when a receipts source is configured. */
  health?: HealthReader;
}

export interface ConsoleDependencies {
  store: Store;
  runtime: ActionRuntime;
  /** The console's own log (stderr): one line per write, warnings. */
  output: Output;
}

export interface RunningConsole {
  /** The URL to open, token included. */
  url: string;
  close(): Promise<void>;
}

/** Requests bodies are a few fields; anything larger is not from the page. */
const MAX_BODY_BYTES = 64 * 1024;

const ASSETS: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** dist/console/assets beside the compiled server, or (running from src in tests) the built copy. */
function assetsFolder(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'assets'), join(here, '..', '..', 'dist', 'console', 'assets')];
  return candidates.find((folder) => existsSync(join(folder, 'console.js'))) ?? candidates[0];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A request's own output: what a workflow says is returned to the page and logged here. */
function requestOutput(log: Output, notes: string[]): Output {
  const step: Step = { update() {}, succeed() {}, fail() {} };
  return {
    json: true,
    interactive: false,
    color: log.color,
    info: (message) => notes.push(message),
    warn: (message) => {
      notes.push(message);
      log.warn(message);
    },
    debug: (message) => log.debug(message),
    step: () => step,
    result: () => {},
  };
}

async function readBody(request: IncomingMessage): Promise<ActionBody> {
  if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) throw new HttpError(415, 'send the fields as JSON (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    return body as ActionBody;
  } catch {
    throw new HttpError(400, 'the request body is not a JSON object');
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Starts the console's web server over the store. Every request needs the
 * token; writes need the console's own origin; pages are served with a
 * strict CSP. Reads are cached per channel by its index's etag.
 */
export async function startConsole(dependencies: ConsoleDependencies, options: ConsoleOptions): Promise<RunningConsole> {
  const { store, runtime, output } = dependencies;
  const state = new ConsoleState(store);
  const token = newToken();
  const assets = assetsFolder();
  let origin = '';
  let hostNames: string[] = [];

  const health = async (): Promise<ReleaseHealth[] | null> => (options.health ? options.health() : null);

  const frame = async (title: string, section: PageFrame['section'], channel?: string): Promise<PageFrame> => ({
    title,
    section,
    channel,
    channels: await state.channelNames(),
    readOnly: options.readOnly,
    revision: state.revisionNow,
  });

  const requireChannel = async (name: string) => {
    if (!(await state.channelNames()).includes(name)) throw new HttpError(404, `no channel '${name}' in this store`);
    return name;
  };

  async function page(path: string, query: URLSearchParams): Promise<string | null> {
    await state.fresh();
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 0) {
      return renderPage(await frame('Overview', 'overview'), overviewContent(await state.overview(), await health(), options.readOnly, false));
    }
    if (parts[0] === 'health' && parts.length === 1) return renderPage(await frame('Health', 'health'), healthContent(await health(), new Date()));
    if (parts[0] === 'whitelists' && parts.length === 1) return renderPage(await frame('Whitelists', 'whitelists'), whitelistsContent(await state.whitelists()));
    if (parts[0] !== 'channels' || parts.length < 2) return null;
    const channel = await requireChannel(parts[1]);
    const rest = parts.slice(2);
    if (rest.length === 0) {
      const { index, histories } = await state.channel(channel);
      return renderPage(await frame(`Channel ${channel}`, 'overview', channel), overviewContent([channelView(index, histories, new Date())], await health(), options.readOnly, true));
    }
    const render = async (title: string, section: PageFrame['section'], content: Markup) => renderPage(await frame(title, section, channel), content);
    if (rest[0] === 'history' && rest.length === 1) {
      const filter = { package: query.get('package') || undefined, action: query.get('action') || undefined, actor: query.get('actor') || undefined };
      return render(`History of ${channel}`, 'history', historyContent(channel, await state.history(channel), filter));
    }
    if (rest[0] === 'switches' && rest.length === 1) return render(`Switches on ${channel}`, 'switches', switchesContent((await state.switches(channel)) as SwitchesData, options.readOnly));
    if (rest[0] === 'app-releases' && rest.length === 1) return render(`App releases on ${channel}`, 'app-releases', appReleasesContent((await state.appReleases(channel)) as unknown as AppReleasesData));
    if (rest[0] === 'packages' && rest[2] === 'releases' && rest.length === 4) {
      const found = await state.release(channel, rest[1], rest[3]);
      if (!found) throw new HttpError(404, `no release ${rest[1]}@${rest[3]} on '${channel}'`);
      const outcome = (await health())?.find((row) => healthKey(row.channel, row.package, row.version) === healthKey(channel, rest[1], rest[3]));
      return render(`${rest[1]} ${rest[3]} on ${channel}`, 'release', releaseContent({ ...found, channels: await state.channelNames(), canAdvance: runtime.receiptsSource !== undefined }, outcome, options.readOnly));
    }
    return null;
  }

  async function api(request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    if (request.method === 'GET') {
      const revision = await state.fresh();
      if (request.headers['if-none-match'] === `"${revision}"`) {
        response.writeHead(304, { ETag: `"${revision}"` }).end();
        return;
      }
      const document =
        path === '/api/revision'
          ? { revision }
          : path === '/api/overview'
            ? { revision, readOnly: options.readOnly, channels: await state.overview() }
            : path === '/api/health'
              ? { releases: await health() }
              : undefined;
      if (!document) throw new HttpError(404, `no API ${path}`);
      sendJson(response, 200, document, { ETag: `"${revision}"` });
      return;
    }
    if (request.method !== 'POST') throw new HttpError(405, 'the API takes GET to read and POST to change');
    if (options.readOnly) throw new HttpError(403, 'this console is read-only (--read-only): it changes nothing');
    // The console's own origin as printed, or as the browser reached it (--host 0.0.0.0 from another machine):
    // a page of another site has its own origin, and without the token it gets nowhere anyway.
    const foreign = foreignOrigin(request, [origin, `http://${request.headers.host ?? ''}`]);
    if (foreign) throw new HttpError(403, `writes come only from the console's own page, not ${foreign}`);
    const command = path.slice('/api/'.length);
    const body = await readBody(request);
    const dryRun = query.get('dryRun') === '1' || query.get('dryRun') === 'true';
    const notes: string[] = [];
    try {
      const result = await runAction(runtime, command, body, { dryRun, output: requestOutput(output, notes), actor: options.actor });
      if (!dryRun) output.info(`${options.actor}: ${command} ${[body.package, body.key, body.channel].filter(Boolean).join(' ')}`);
      sendJson(response, 200, { command, dryRun, result, notes });
    } catch (error) {
      if (error instanceof ConflictError) {
        sendJson(response, 409, { error: error.message, notes, ...('current' in error && { current: (error as { current: number }).current }) });
        return;
      }
      if (error instanceof UserError) {
        sendJson(response, error.exitCode === ExitCode.usage ? 400 : 422, { error: error.message, notes });
        return;
      }
      throw error;
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', origin);
    // A page of another site resolving its name to this machine (DNS rebinding) sends its own Host.
    if (hostNames.length && !hostNames.includes(request.headers.host ?? '')) throw new HttpError(403, 'unexpected Host header');
    const { token: given, fromUrl } = requestToken(request, url);
    if (!holdsToken(given, token)) throw new HttpError(401, 'open the console with the URL it printed (it carries the token)');
    if (fromUrl) {
      // The token leaves the address bar at once: the cookie carries it from here.
      url.searchParams.delete('token');
      response.writeHead(303, { Location: `${url.pathname}${url.search}`, 'Set-Cookie': tokenCookie(token), 'Cache-Control': 'no-store' }).end();
      return;
    }
    if (url.pathname.startsWith('/api/')) return api(request, response, url.pathname, url.searchParams);
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'pages are read with GET');
    // Browsers ask for it on their own; the console has none.
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    if (url.pathname.startsWith('/assets/')) {
      const name = url.pathname.slice('/assets/'.length);
      const type = ASSETS[name];
      if (!type) throw new HttpError(404, 'no such asset');
      const body = await readFile(join(assets, name)).catch(() => {
        throw new HttpError(500, "the console's assets are missing: run 'npm run build'");
      });
      response.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache' }).end(body);
      return;
    }
    const html = await page(url.pathname, url.searchParams);
    if (html === null) throw new HttpError(404, `no page ${url.pathname}`);
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
  }

  const server = createServer((request, response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof HttpError) return sendError(request, response, error.status, error.message);
      // A store that cannot be read (network, permissions) is said; a bug in the console is logged with its stack.
      const message = error instanceof UserError ? error.message : 'unexpected error in the console; see its log';
      if (!(error instanceof UserError)) output.warn(`console: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendError(request, response, 500, message);
    });
  });
  await listen(server, options, 'cannot start the console');
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  origin = `http://${host}:${port}`;
  if (LOOPBACK.has(host)) hostNames = [...LOOPBACK].map((name) => `${name}:${port}`);
  return {
    url: `${origin}/?token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // The first URL carries the token: never send it on as a referrer.
  'Referrer-Policy': 'no-referrer',
};

function sendJson(response: ServerResponse, status: number, document: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers }).end(JSON.stringify(document));
}

function sendError(request: IncomingMessage, response: ServerResponse, status: number, message: string): void {
  if ((request.url ?? '').startsWith('/api/') || request.headers.accept?.includes('application/json')) {
    sendJson(response, status, { error: message });
    return;
  }
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end(`${status}: ${message}\n`);
}
