import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeSigningKeyPair } from '../../trust/keys.js';
import { outputFor, type GlobalOptions } from '../context.js';

interface KeysGenerateFlags extends GlobalOptions {
  out: string;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage the signing keys devices use to trust releases');
  keys
    .command('generate')
    .description('write a new Ed25519 signing key pair into a folder')
    .requiredOption('--out <dir>', 'folder to write signing-private.pem and signing-public.pem into')
    .addHelpText('after', '\nExamples:\n  $ update-publish keys generate --out keys\n  $ update-publish keys generate --out ~/.update-publish/keys --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<KeysGenerateFlags>();
      const output = outputFor(flags);
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
}
