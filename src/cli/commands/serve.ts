import { once } from 'node:events';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { receiptsPathOf } from '../../workflows/health.js';
import { serveStore } from '../../workflows/serve.js';
import { withStore, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';
import { portOf } from '../port-option.js';
import { loadAccessKeys } from '../../keys/access-keys.js';
import type { AccessCheck } from '../../store/cloudfront-access.js';
import { loadAccessConfig } from '../access-config.js';

interface ServeFlags extends GlobalOptions {
  port: string;
  host: string;
  private?: boolean;
  receiptsLog?: string;
}

const DEFAULT_PORT = '8080';
const DEFAULT_HOST = '127.0.0.1';

// JSON: { url } when listening; the command runs until Ctrl-C or SIGTERM (exit 130).
export function registerServe(program: Command, session: Session): void {
  program
    .command('serve')
    .description('serve the folder store over HTTP as S3 behind CloudFront does, for apps, emulators and fetch --from on this machine or network')
    .option('--port <n>', 'port to listen on (0 picks a free one)', DEFAULT_PORT)
    .option('--host <address>', 'address to listen on: 127.0.0.1 for this machine and its emulators, 0.0.0.0 for phones on the network', DEFAULT_HOST)
    .option('--private', "require CloudFront signed URLs or cookies (config access) for what access.scope makes private, as the distribution does")
    .option('--receipts-log <file>', 'answer 204 on the receipts path (config receipts.url, default r/v1) and append each receipt to this NDJSON file (no IP address), for health')
    .addHelpText(
      'after',
      `
Prints the base URL (first line on stdout) and serves until Ctrl-C. History, archive and other
publisher documents are never served (403). With --private, requests are checked as the
distribution with access.keyPairId's key group checks them, as if made to access.baseUrl. Each object gets the headers
the bucket gives it (Cache-Control by object class, Content-Type, ETag), with Range, If-Range and
If-None-Match answered as CloudFront does. Without a config file, --store names the folder.

Examples:
  $ update-publish serve
  $ update-publish serve --store ./releases --port 0 --json
  $ update-publish serve --receipts-log receipts.ndjson   # then: update-publish health --receipts receipts.ndjson
  $ update-publish serve --host 0.0.0.0      # an Android emulator reaches 127.0.0.1 as http://10.0.2.2:8080/
  $ update-publish serve --private           # entitlement as CloudFront checks it (docs/private-content.md)`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<ServeFlags>();
      const port = portOf(flags.port);
      const access = flags.private ? await privateAccessCheck(session, flags) : undefined;
      await withStore(session, flags, async ({ store, output, config }) => {
        const receipts = flags.receiptsLog === undefined ? undefined : { path: receiptsPathOf(config ?? {}), file: resolve(session.cwd, flags.receiptsLog) };
        const server = await serveStore({ store, output }, { host: flags.host, port, receipts, access });
        if (receipts) output.info(`receipts to ${receipts.path} are logged to ${receipts.file}`);
        session.interruptionMeans = `stopped serving ${store.location} at ${server.url}`;
        try {
          output.result({ url: server.url }, () => server.url);
          for (const url of server.networkUrls) output.info(`other devices on the network: ${url}`);
          output.info(`serving ${store.location} at ${server.url}; Ctrl-C stops`);
          const signal = session.interruption.signal;
          if (!signal.aborted) await once(signal, 'abort');
        } finally {
          await server.close();
        }
      });
    });
}

/** The key group serve --private checks against: the config's access settings and public key. */
async function privateAccessCheck(session: Session, flags: GlobalOptions): Promise<AccessCheck> {
  const { access, configDir } = await loadAccessConfig(session, flags);
  const { keyPairId, publicKey } = await loadAccessKeys(access, configDir, 'public', session.env);
  return { keyPairId, publicKey, baseUrl: access.baseUrl, scope: access.scope };
}
