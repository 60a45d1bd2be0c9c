import { relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadAccessConfig } from '../access-config.js';
import { parseDuration } from '../../duration.js';
import { UserError } from '../../errors.js';
import { loadAccessKeys, writeAccessKeyPair } from '../../keys/access-keys.js';
import { CREDENTIAL_KINDS, signAccess, signProblem, type CredentialKind } from '../../keys/access-signing.js';
import type { AccessCredential } from '../../protocol/private-access.js';
import { ENV, fromFlagOrEnv, loadSessionConfig, outputFor, requireChannelName, type GlobalOptions } from '../context.js';
import { cognitoReadPolicy } from '../../workflows/access-policy.js';
import type { Session } from '../session.js';

interface KeysGenerateFlags extends GlobalOptions {
  out: string;
}

interface PolicyFlags extends GlobalOptions {
  cognito?: boolean;
  channel?: string;
}

interface SignFlags extends GlobalOptions {
  kind: CredentialKind;
  ttl: string;
  resource?: string;
  url?: string;
  ip?: string;
}

const DEFAULT_TTL = '1h';

export function registerAccess(program: Command, session: Session): void {
  const access = program.command('access').description('private content: CloudFront key pair, signed cookies and URLs for entitled devices, Cognito policy');
  const keys = access.command('keys').description('the CloudFront key pair that signs device credentials');

  // JSON: { privateKeyPath, publicKeyPath, next: [steps] }
  keys
    .command('generate')
    .description('write a new RSA 2048 key pair in the form CloudFront CreatePublicKey takes')
    .requiredOption('--out <dir>', `folder to write cloudfront-private.pem and cloudfront-public.pem into`)
    .addHelpText('after', '\nExamples:\n  $ update-publish access keys generate --out keys\n  $ update-publish access keys generate --out keys --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<KeysGenerateFlags>();
      const output = outputFor(session, flags);
      const written = await writeAccessKeyPair(resolve(session.cwd, flags.out));
      const publicPath = relative(session.cwd, written.publicKeyPath);
      const next = [
        `aws cloudfront create-public-key --public-key-config "CallerReference=$(date +%s),Name=update-publish-devices,EncodedKey=$(cat ${publicPath})"  # note the Id it returns`,
        `aws cloudfront create-key-group --key-group-config "Name=update-publish-devices,Items=<public key Id>"`,
        `attach the key group (TrustedKeyGroups) to the cache behaviour serving packages/* (every path for scope "all") of the distribution`,
        `set "access": { "keyPairId": "<public key Id>", "privateKey": "${relative(session.cwd, written.privateKeyPath)}", "publicKey": "${publicPath}", "baseUrl": "https://<distribution>/<prefix>", "scope": "packages" } in the config`,
      ];
      output.result({ ...written, next }, () =>
        [
          `wrote ${written.privateKeyPath} (keep it secret: it signs every device's entitlement; never commit it)`,
          `wrote ${written.publicKeyPath} (give it to CloudFront)`,
          'next (docs/private-content.md has the CloudFormation snippet):',
          ...next.map((step, i) => `  ${i + 1}. ${step}`),
        ].join('\n'),
      );
    });

  registerPolicy(access, session);

  // JSON: { cookies: { CloudFront-Policy, CloudFront-Signature, CloudFront-Key-Pair-Id }, expires } or { url, expires }
  access
    .command('sign')
    .description("sign a device's entitlement: CloudFront signed cookies or a signed URL with a custom policy")
    .addOption(new Option('--kind <kind>', 'signed cookies, or a signed URL').choices(CREDENTIAL_KINDS).default('cookie'))
    .option('--ttl <duration>', 'how long the credential is accepted, at most 365d', DEFAULT_TTL)
    .option('--resource <pattern>', 'URL pattern the credential opens (* and ? wildcards; default: <baseUrl>/packages/*, <baseUrl>/* for scope all)')
    .option('--url <url>', 'the URL to sign (--kind url; default: the resource up to its first wildcard)')
    .option('--ip <cidr>', 'accept requests from this address or CIDR block only')
    .addHelpText(
      'after',
      `
Run by the app's backend (or a Lambda behind its login) to hand an entitled device its credential;
devices pass it to fetch --credentials-command (or the client's credentials callback).

Examples:
  $ update-publish access sign --json
  $ update-publish access sign --kind url --ttl 15m --json
  $ update-publish access sign --resource 'https://cdn.example.com/updates/packages/maps/*' --ip 203.0.113.7`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<SignFlags>();
      const output = outputFor(session, flags);
      const ttlMs = parseDuration(flags.ttl);
      if (ttlMs === undefined) throw new UserError(`--ttl '${flags.ttl}' is not a duration such as 15m, 1h or 7d`);
      const { access: settings, configDir } = await loadAccessConfig(session, flags);
      const options = { kind: flags.kind, ttlMs, resource: flags.resource, url: flags.url, ip: flags.ip };
      // The request is checked before the key is read: a bad flag names itself, not the key.
      const problem = signProblem(settings, options);
      if (problem) throw new UserError(problem);
      const keyPair = await loadAccessKeys(settings, configDir, 'private', session.env);
      const credential = await signAccess(settings, { keyPairId: keyPair.keyPairId, privateKey: keyPair.privateKey! }, options);
      output.result(credential, () => describeCredential(credential));
    });
}

function registerPolicy(access: Command, session: Session): void {
  // JSON: the IAM policy document itself.
  access
    .command('policy')
    .description("the IAM policy of a Cognito identity pool's authenticated role: devices read the store's private objects from S3 (and the dynamodb hook's current items)")
    .option('--cognito', 'the policy for the identity pool role (the only kind)')
    .option('--channel <name>', 'only this channel (scope all; default: every configured channel)')
    .addHelpText(
      'after',
      `
Prints the policy document (the same with --json). Devices then read with fetch --from s3://bucket/prefix
(the AWS SDK's credentials: Cognito's GetCredentialsForIdentity).

Examples:
  $ update-publish access policy --cognito --json > device-policy.json
  $ aws iam put-role-policy --role-name app-authenticated --policy-name update-publish-devices --policy-document file://device-policy.json`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<PolicyFlags>();
      const output = outputFor(session, flags);
      if (!flags.cognito) throw new UserError('give --cognito: the policy for a Cognito identity pool role is the one access policy writes');
      const { config } = await loadSessionConfig(session, flags);
      const channel = flags.channel === undefined ? undefined : requireChannelName(flags.channel);
      const policy = cognitoReadPolicy(config, { store: fromFlagOrEnv(session, flags.store, ENV.store) ?? config.store, channel, env: session.env });
      output.result(policy, () => JSON.stringify(policy, null, 2));
    });
}

function describeCredential(credential: AccessCredential): string {
  if ('url' in credential) return `${credential.url}\nexpires ${credential.expires}`;
  return [...Object.entries(credential.cookies).map(([name, value]) => `${name}=${value}`), `expires ${credential.expires}`].join('\n');
}
