import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { plural } from '../../format.js';
import { writeSigningKeyPair } from '../../keys/signing-keys.js';
import { resignDocuments } from '../../workflows/keys-resign.js';
import { outputFor, withContext, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';
import { collect, loadPublicKeys } from '../trust-options.js';

interface KeysGenerateFlags extends GlobalOptions {
  out: string;
}

interface KeysResignFlags extends GlobalOptions {
  channel?: string;
  publicKey?: string[];
  accept?: string[];
  acceptUnsigned?: boolean;
}

export function registerKeys(program: Command, session: Session): void {
  const keys = program.command('keys').description('manage the signing keys devices use to trust releases');
  keys
    .command('generate')
    .description('write a new Ed25519 signing key pair into a folder')
    .requiredOption('--out <dir>', 'folder to write signing-private.pem and signing-public.pem into')
    .addHelpText('after', '\nExamples:\n  $ update-publish keys generate --out keys\n  $ update-publish keys generate --out ~/.update-publish/keys --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<KeysGenerateFlags>();
      const output = outputFor(session, flags);
      const written = await writeSigningKeyPair(resolve(flags.out));
      output.result(written, () =>
        [
          `wrote ${written.privateKeyPath} (keep it secret: never commit it)`,
          `wrote ${written.publicKeyPath} (ship it in the app)`,
          `key id ${written.keyId}`,
          `next: set "signing": { "privateKey": "${relative(process.cwd(), written.privateKeyPath)}" } in the config (or keep the PEM in a CI secret and use "env:NAME")`,
        ].join('\n'),
      );
    });

  // JSON: { channels, signed: [keys], dryRun }
  keys
    .command('resign')
    .description("sign a channel's documents again with the configured key, once the old trust vouches for each as stored")
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .option('--public-key <file>', 'the old trust: a public key whose valid signature lets a document be signed again (repeatable; after a key rotation)', collect)
    .option('--accept <key>', 'sign this document as stored although no trusted key vouches for it, once you checked it (repeatable)', collect)
    .option('--accept-unsigned', 'sign documents that carry no signature (a store that was never signed; refused in a signed store)')
    .option('--dry-run', 'list what would be signed, write nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      `
Publishers refuse to build on a document whose signature does not vouch for it: it may have been
changed outside update-publish. After a key rotation, point signing.privateKey at the new key and
give the old public key with --public-key: every document the old key signed, as stored, is signed
with the new one. A document no trusted key vouches for (altered, signed by an unknown key) is
refused by name and nothing is signed: restore it, or check it and name it with --accept.

Examples:
  $ update-publish keys resign --public-key keys/old-signing-public.pem --dry-run
  $ update-publish keys resign --accept-unsigned --yes --json
  $ update-publish keys resign --accept channels/production/index.json --yes`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<KeysResignFlags>();
      await withContext(session, flags, async (context) => {
        const result = await resignDocuments(context, {
          channel: flags.channel === undefined ? undefined : await context.knownChannel(flags.channel),
          publicKeys: await loadPublicKeys(flags.publicKey ?? []),
          accept: flags.accept ?? [],
          acceptUnsigned: Boolean(flags.acceptUnsigned),
        });
        const { channels, signed } = result;
        context.output.result(result, () =>
          signed.length === 0
            ? `every document of ${channels.join(', ') || 'no channel'} carries a valid signature; nothing to sign`
            : `${context.dryRun ? '[dry-run] would sign' : 'signed'} ${plural(signed.length, 'document')}: ${signed.join(', ')}`,
        );
      });
    });
}
