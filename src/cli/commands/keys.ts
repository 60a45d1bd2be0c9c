import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { plural } from '../../format.js';
import { writeSigningKeyPair } from '../../keys/signing-keys.js';
import { resignDocuments } from '../../workflows/keys-resign.js';
import { outputFor, withContext, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';

interface KeysGenerateFlags extends GlobalOptions {
  out: string;
}

interface KeysResignFlags extends GlobalOptions {
  channel?: string;
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
    .description("sign a channel's documents as they are stored where their signature is missing or not this key's (after checking them)")
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .option('--dry-run', 'list what would be signed, write nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      `
Publishers refuse to build on a document whose signature does not vouch for it: it may have been
changed outside update-publish. After a key rotation, or a run stopped between writing a document
and signing it, check what is stored (status, verify), then sign it as it is with this command.

Examples:
  $ update-publish keys resign --channel production --dry-run
  $ update-publish keys resign --yes --json`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<KeysResignFlags>();
      await withContext(session, flags, async (context) => {
        const result = await resignDocuments(context, flags.channel === undefined ? undefined : await context.knownChannel(flags.channel));
        const { channels, signed } = result;
        context.output.result(result, () =>
          signed.length === 0
            ? `every document of ${channels.join(', ') || 'no channel'} carries a valid signature; nothing to sign`
            : `${context.dryRun ? '[dry-run] would sign' : 'signed'} ${plural(signed.length, 'document')}: ${signed.join(', ')}`,
        );
      });
    });
}
