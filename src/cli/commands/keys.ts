import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { plural } from '../../format.js';
import { writeSigningKeyPair } from '../../keys/signing-keys.js';
import { resignDocuments } from '../../workflows/keys-resign.js';
import { DEFAULT_ROOT_LIFETIME, initRoot, publishRootProposal, rootStatus, rotateRoot, signRootProposal, type RootWriteResult } from '../../workflows/keys-root.js';
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
      const written = await writeSigningKeyPair(resolve(session.cwd, flags.out));
      output.result(written, () =>
        [
          `wrote ${written.privateKeyPath} (keep it secret: never commit it)`,
          `wrote ${written.publicKeyPath} (ship it in the app)`,
          `key id ${written.keyId}`,
          `next: set "signing": { "privateKey": "${relative(session.cwd, written.privateKeyPath)}" } in the config (or keep the PEM in a CI secret and use "env:NAME")`,
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
          publicKeys: await loadPublicKeys(session, flags.publicKey ?? []),
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

  registerKeysRoot(keys, session);
}

interface RootFlags extends GlobalOptions {
  rootKey?: string[];
  threshold?: string;
  signingKey?: string[];
  signingThreshold?: string;
  expires?: string;
  sign?: string[];
  out?: string;
  copy?: string;
  addSigningKey?: string[];
  removeSigningKey?: string[];
  addRootKey?: string[];
  removeRootKey?: string[];
  key?: string[];
}

const describeRootWrite = (result: RootWriteResult) => {
  const head =
    result.status === 'published'
      ? `${result.dryRun ? '[dry-run] would publish' : 'published'} ${result.key}${result.out ? ` (copy to ship in apps: ${result.out})` : ''}`
      : `${result.dryRun ? '[dry-run] would write' : 'wrote'} proposal for root ${result.version} to ${result.out}`;
  const state = result.missing ? `needs ${result.missing}` : 'both thresholds met';
  return `${head}: signing keys ${result.keys.signing.join(', ')} (threshold ${result.thresholds.signing}), root keys ${result.keys.root.join(', ')} (threshold ${result.thresholds.root}), expires ${result.expires}; signed by ${result.signatures.join(', ') || 'nobody yet'}; ${state}`;
};

function registerKeysRoot(keys: Command, session: Session): void {
  const root = keys.command('root').description('the root of trust: offline root keys, with a threshold, naming the online signing keys devices trust');
  const writeOptions = (command: Command) => command.option('--dry-run', 'show what would be written, write nothing').option('-y, --yes', 'do not ask for confirmation');
  writeOptions(
    root
      .command('init')
      .description('write root/1.root.json: the root keys and threshold, the signing keys and their threshold; and a copy to ship in apps')
      .option('--root-key <pub>', 'public key (PEM) of an offline root key (repeatable)', collect)
      .option('--threshold <n>', 'how many root keys must sign a root (default 1)')
      .option('--signing-key <pub|kms:arn>', 'public key (PEM) or kms:<key-arn> of an online signing key (repeatable)', collect)
      .option('--signing-threshold <m>', 'how many signing keys must sign every document (default 1)')
      .option('--expires <duration>', `how long the root stays valid (default ${DEFAULT_ROOT_LIFETIME})`)
      .option('--sign <priv>', 'private key (PEM) of a root key to sign with (repeatable)', collect)
      .option('--out <file>', 'write the root to this file as a proposal to sign offline, instead of publishing')
      .option('--copy <file>', 'where to write the copy apps ship (default 1.root.json)'),
  )
    .addHelpText('after', '\nExamples:\n  $ update-publish keys root init --root-key r1.pub.pem --root-key r2.pub.pem --threshold 2 --signing-key keys/signing-public.pem --sign r1.pem --sign r2.pem')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<RootFlags>();
      await withContext(session, flags, async (context) => {
        const result = await initRoot(context, {
          rootKeys: flags.rootKey ?? [],
          threshold: flags.threshold,
          signingKeys: flags.signingKey ?? [],
          signingThreshold: flags.signingThreshold,
          expires: flags.expires,
          sign: flags.sign ?? [],
          out: flags.out,
          copy: flags.copy,
        });
        context.output.result(result, () => describeRootWrite(result));
      });
    });

  writeOptions(
    root
      .command('rotate')
      .description('write the next root: add or remove signing and root keys, change thresholds or expiry; publishes once both thresholds are met')
      .option('--add-signing-key <pub|kms:arn>', 'trust another signing key (repeatable)', collect)
      .option('--remove-signing-key <keyid>', 'stop trusting a signing key (repeatable): documents it alone signs are refused', collect)
      .option('--add-root-key <pub>', 'another root key (repeatable)', collect)
      .option('--remove-root-key <keyid>', 'remove a root key (repeatable)', collect)
      .option('--threshold <n>', 'root threshold of the new root (default: unchanged)')
      .option('--signing-threshold <m>', 'signing threshold of the new root (default: unchanged)')
      .option('--expires <duration>', `how long the new root stays valid (default ${DEFAULT_ROOT_LIFETIME})`)
      .option('--sign <priv>', 'private key (PEM) of a root key of the current or the new root (repeatable)', collect)
      .option('--out <file>', 'write an unsigned (or partly signed) proposal to this file for offline signing, instead of publishing'),
  )
    .addHelpText('after', '\nExamples:\n  $ update-publish keys root rotate --add-signing-key new-public.pem --remove-signing-key 0123456789abcdef --out root-2.json\n  $ update-publish keys root rotate --expires 365d --sign r1.pem --sign r2.pem --yes')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<RootFlags>();
      await withContext(session, flags, async (context) => {
        const result = await rotateRoot(context, {
          addSigningKeys: flags.addSigningKey ?? [],
          removeSigningKeys: flags.removeSigningKey ?? [],
          addRootKeys: flags.addRootKey ?? [],
          removeRootKeys: flags.removeRootKey ?? [],
          threshold: flags.threshold,
          signingThreshold: flags.signingThreshold,
          expires: flags.expires,
          sign: flags.sign ?? [],
          out: flags.out,
        });
        context.output.result(result, () => describeRootWrite(result));
      });
    });

  writeOptions(
    root
      .command('sign <file>')
      .description('add a root key\'s signature to a proposal (offline)')
      .option('--key <priv>', 'private key (PEM) of a root key (repeatable)', collect),
  ).action(async (file: string, _flags, command: Command) => {
    const flags = command.optsWithGlobals<RootFlags>();
    await withContext(session, flags, async (context) => {
      const result = await signRootProposal(context, file, flags.key ?? []);
      context.output.result(result, () => describeRootWrite(result));
    });
  });

  writeOptions(root.command('publish <file>').description('publish a proposal once it meets both thresholds')).action(async (file: string, _flags, command: Command) => {
    const flags = command.optsWithGlobals<RootFlags>();
    await withContext(session, flags, async (context) => {
      const result = await publishRootProposal(context, file);
      context.output.result(result, () => describeRootWrite(result));
    });
  });

  // JSON: { roots: [{ version, expires, keys, thresholds }], current, expires, expired }
  root
    .command('status')
    .description('show the root chain: versions, keys, thresholds, expiry')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<RootFlags>();
      await withContext(
        session,
        flags,
        async (context) => {
          const status = await rootStatus(context);
          context.output.result(status, () =>
            status.roots.length === 0
              ? `no root in ${context.store.location}; create one with 'update-publish keys root init'`
              : [
                  ...status.roots.map((entry) => `root ${entry.version}: signing ${entry.keys.signing.join(', ')} (threshold ${entry.thresholds.signing}); root keys ${entry.keys.root.join(', ')} (threshold ${entry.thresholds.root}); expires ${entry.expires}`),
                  status.expired ? `root ${status.current} EXPIRED at ${status.expires}: devices refuse it; publish the next root` : `current: root ${status.current}, expires ${status.expires}`,
                ].join('\n'),
          );
        },
        { configOptional: true },
      );
    });
}
