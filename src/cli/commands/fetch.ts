import { resolve } from 'node:path';
import type { Command } from 'commander';
import { awsClientSettings } from '../../aws-settings.js';
import type { Environment } from '../../environment.js';
import { isProtocolVersion } from '../../protocol/version.js';
import { fetchUpdate, type FetchResult } from '../../client/fetch/fetch-update.js';
import { DEFAULT_TRANSFER_LIMITS, httpSource } from '../../client/fetch/http-source.js';
import { storeSource } from '../../client/fetch/source.js';
import type { S3Config } from '../../config/schema.js';
import { UserError } from '../../errors.js';
import { credentialsFromCommand } from '../../client/fetch/credentials-command.js';
import { parseAttributes, parseDate } from '../../release/rules.js';
import { outputFor, withContext, type GlobalOptions } from '../context.js';
import { markLaunched, rollbackIfUnconfirmed } from '../../client/receipts/reporter.js';
import { formatBytes, formatProgress } from '../../format.js';
import { collect, loadPublicKeys, readDecryptionKeys, readRootFile } from '../trust-options.js';
import type { Session } from '../session.js';

interface FetchFlags extends GlobalOptions {
  channel?: string;
  platform?: string;
  appVersion?: string;
  deviceId?: string;
  attr?: string;
  into: string;
  publicKey?: string[];
  root?: string;
  requireSignatures?: boolean;
  decryptionKey?: string[];
  from?: string;
  now?: string;
  maxIndexSize?: string;
  stallTimeout?: string;
  deadline?: string;
  minSpeed?: string;
  patches?: boolean;
  credentialsCommand?: string;
  confirmLaunch?: string;
}

/** A whole positive number from a flag, or a usage error naming the flag. */
function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UserError(`${flag} '${value}' is not a whole positive number`);
  return Number(value);
}

export function registerFetch(program: Command, session: Session): void {
  program
    .command('fetch <package>')
    .description('install or update a package into a folder exactly as a device would: resolve, download, check, apply')
    .requiredOption('--into <dir>', 'folder holding the installed package (created if missing)')
    .option('--channel <name>', 'channel the app reads (default: config channel)')
    .option('--platform <name>', 'device platform, e.g. ios')
    .option('--app-version <semver>', 'app version on the device')
    .option('--device-id <id>', 'device id (decides rollout and whitelist membership)')
    .option('--attr <k=v,…>', 'device attributes, e.g. region=eu,locale=de')
    .option('--public-key <file>', 'trusted signing public key: signatures become mandatory (repeat during a key rotation)', collect)
    .option('--root <file>', 'the root the app ships (root/<N>.root.json): follow the chain from it; documents must be signed by the newest root\'s signing keys')
    .option('--require-signatures', 'refuse to install anything whose signatures are not checked against a --public-key')
    .option('--decryption-key <env:NAME>', 'package encryption key from an environment variable (repeatable)', collect)
    .option('--from <url>', 'read through this http(s) base URL (the CDN in front of the store), or s3://bucket/prefix with the AWS SDK credentials (e.g. Cognito), instead of the store')
    .option('--now <iso>', 'evaluate index expiry and time windows at this ISO-8601 time with offset (default: now)')
    .option('--max-index-size <bytes>', 'refuse a channel index larger than this (default 16777216)')
    .option('--stall-timeout <seconds>', 'give up on a request that receives nothing for this long (default 30)')
    .option('--deadline <seconds>', 'give up on a document that has not arrived whole in this long; a package gets this plus its size at 16 KiB/s (default 60)')
    .option('--min-speed <bytes-per-second>', 'give up on a request slower than this after 60 s (default 1024)')
    .option('--credentials-command <cmd>', "a private store's credentials: a command printing what 'access sign --json' prints, run before the first private request and once more on a 403")
    .option('--patches', 'apply binary patches where the channel offers a patched delta (the default)')
    .option('--no-patches', 'never download a patched delta: file-level deltas and full packages only')
    .option('--confirm-launch <ok|failed>', 'instead of fetching: tell that the app loaded (ok) or failed to load the installed release (sends launch_ok or launch_failed)')
    .addHelpText(
      'after',
      `
Examples:
  $ update-publish fetch maps --into ./device/maps --platform ios --app-version 2.0.0 --device-id abc
  $ update-publish fetch maps --into ./device/maps --public-key keys/signing-public.pem --json
  $ update-publish fetch maps --into ./device/maps --from https://cdn.example.com/updates --decryption-key env:CONTENT_KEY
  $ update-publish fetch maps --into ./device/maps --from https://cdn.example.com/updates --credentials-command './entitlement.sh'
  $ update-publish fetch maps --into ./device/maps --confirm-launch ok

When the channel index asks for receipts, each fetch run counts as an app start: after 2 starts
without --confirm-launch ok, the previous install is restored and the release never installed again.`,
    )
    .action(async (packageId: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<FetchFlags>();
      // The device library resolves from the process's folder: the run's own is given to it outright.
      const into = resolve(session.cwd, flags.into);
      if (flags.confirmLaunch !== undefined) {
        if (flags.confirmLaunch !== 'ok' && flags.confirmLaunch !== 'failed') throw new UserError(`--confirm-launch '${flags.confirmLaunch}' is not ok or failed`);
        const output = outputFor(session, flags);
        const confirmed = await markLaunched(into, flags.confirmLaunch === 'ok', { platform: flags.platform, appVersion: flags.appVersion });
        const document = { package: packageId, launch: flags.confirmLaunch, version: confirmed?.version ?? null };
        output.result(document, () =>
          confirmed ? `${packageId} ${confirmed.version}: launch ${flags.confirmLaunch} reported` : `${packageId}: no install awaits a confirmation in ${flags.into}`,
        );
        return;
      }
      if (flags.appVersion !== undefined && !isProtocolVersion(flags.appVersion)) {
        throw new UserError(`--app-version '${flags.appVersion}' is not a SemVer 2.0.0 version (no leading 'v', no spaces); use e.g. 2.0.0`);
      }
      const attributes = flags.attr === undefined ? undefined : parseAttributes(flags.attr);
      const publicKeys = await loadPublicKeys(session, flags.publicKey ?? []);
      const root = flags.root === undefined ? undefined : await readRootFile(session, flags.root);
      if (flags.requireSignatures && publicKeys.length === 0 && root === undefined) {
        throw new UserError('--require-signatures needs a key to check them with: pass --public-key FILE (the signing-public.pem the app ships) or --root FILE');
      }
      const decryptionKeys = readDecryptionKeys(session, flags.decryptionKey ?? []);
      const now = flags.now === undefined ? undefined : new Date(parseDate('--now', flags.now));
      const maxIndexBytes = positiveInteger('--max-index-size', flags.maxIndexSize);
      const stallSeconds = positiveInteger('--stall-timeout', flags.stallTimeout);
      const minSpeed = positiveInteger('--min-speed', flags.minSpeed);
      const deadlineSeconds = positiveInteger('--deadline', flags.deadline);
      const limits = {
        ...DEFAULT_TRANSFER_LIMITS,
        ...(stallSeconds !== undefined && { stallTimeoutMs: stallSeconds * 1000 }),
        ...(minSpeed !== undefined && { minBytesPerSecond: minSpeed }),
        ...(deadlineSeconds !== undefined && { documentDeadlineMs: deadlineSeconds * 1000 }),
      };
      const fromS3 = flags.from?.toLowerCase().startsWith('s3://') ?? false;
      if (flags.credentialsCommand !== undefined && (!flags.from || fromS3)) {
        throw new UserError('--credentials-command applies with --from https://… (a CDN in front of a private store); a store read directly needs none');
      }
      const credentials = flags.credentialsCommand === undefined ? undefined : credentialsFromCommand(flags.credentialsCommand, session);
      await withContext(session, flags, async (context) => {
        const { store, output } = context;
        // The S3 client loads only to read S3 directly: every other command starts without the SDK.
        const source = !flags.from
          ? storeSource(store)
          : fromS3
            ? (await import('../../client/fetch/s3-source.js')).s3Source(flags.from, s3ClientConfig(context.config.s3, session.env))
            : httpSource(flags.from, limits, { credentials });
        // Through a CDN the source itself says whether the channel exists.
        const channel = flags.from ? context.channelName(flags.channel) : await context.channel(flags.channel);
        // Each run is an app start for the crash-loop guard.
        const guard = await rollbackIfUnconfirmed(into, { platform: flags.platform, appVersion: flags.appVersion });
        if (guard.rolledBack) output.warn(`${packageId} ${guard.version} was not confirmed after ${guard.starts} starts: rolled back to ${guard.restored ?? 'nothing installed'}; it is not installed again`);
        const checking = `${packageId}: checking ${channel} on ${source.location}`;
        const step = output.step(checking);
        let shownStage: string | undefined;
        let stageStarted = Date.now();
        let result: FetchResult;
        // The swap into the folder is atomic: until it lands, an interruption leaves the folder as it was.
        session.interruptionMeans = `stopped before installing anything; ${flags.into} is unchanged`;
        try {
          result = await fetchUpdate({
            source,
            channel,
            package: packageId,
            device: {
              platform: flags.platform,
              appVersion: flags.appVersion,
              deviceId: flags.deviceId,
              ...(attributes && { attributes }),
            },
            intoDir: into,
            publicKeys,
            root,
            decryptionKeys,
            now,
            maxIndexBytes,
            // --patches is the default: only --no-patches turns them off.
            patches: flags.patches !== false,
            signal: session.interruption.signal,
            onProgress: ({ stage, version, doneBytes, totalBytes }) => {
              if (stage !== shownStage) [shownStage, stageStarted] = [stage, Date.now()];
              step.update(`${packageId}: ${stage} ${version} ${formatProgress(doneBytes, totalBytes, stageStarted)}`);
            },
            onUncheckedSignatures: () =>
              output.warn(`the channel index at ${source.location} is signed, but no --public-key was given: signatures are not checked; pass --public-key FILE (--require-signatures refuses instead)`),
          });
        } catch (error) {
          step.fail(`${packageId}: nothing installed, ${flags.into} is unchanged`);
          throw error;
        }
        if (result.reason === 'unknown-package') {
          step.fail(`${packageId}: nothing installed, ${flags.into} is unchanged`);
          throw new UserError(`package '${packageId}' is not released on channel '${channel}' at ${source.location}; check the package name and --channel`);
        }
        // Past the swap the install is done: an interruption now must not say otherwise.
        session.interruptionMeans = result.updated
          ? `${packageId} ${result.version} was installed into ${flags.into} before the interruption took effect; nothing is left half-done`
          : `nothing was installed; ${flags.into} is unchanged`;
        step.succeed(checking);
        for (const { key, problem } of result.fallbacks) output.warn(`${key} was not used: ${problem}`);
        output.result(result, () => describeFetch(result, flags.into));
      }, { configOptional: true, sourceGiven: flags.from !== undefined });
    });
}

function describeFetch(result: FetchResult, dir: string): string {
  if (!result.updated) {
    return `${result.package}: no update (${result.reason}${result.version ? `, ${result.version} installed` : ''})`;
  }
  const from = result.previousVersion ? ` from ${result.previousVersion}` : '';
  return `${result.package}: installed ${result.version}${from} into ${dir} (${result.patched ? 'patched ' : ''}${result.kind}, ${formatBytes(result.bytesDownloaded)} downloaded)${result.mandatory ? ', mandatory' : ''}`;
}

/** What a device read of S3 needs: the config's region, endpoint and path style over the run's environment (credentials too). */
const s3ClientConfig = (s3: S3Config | undefined, env: Environment) => ({
  ...awsClientSettings(env, 'S3', { region: s3?.region, endpoint: s3?.endpoint, profile: s3?.profile }),
  ...(s3?.forcePathStyle !== undefined && { forcePathStyle: s3.forcePathStyle }),
});
