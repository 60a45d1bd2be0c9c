/**
 * `app-release add|ls|rm|rollout|halt|history|resolve`: app-upgrade notices,
 * one versioned document per channel (channels/<channel>/app-releases.json).
 * A device below a release's version that the release's rules serve is told
 * to upgrade, and forced to below --min-supported or when it is mandatory.
 *
 * JSON: add → { channel, platform, version, release, documentVersion, dryRun, hooks };
 *       rm, rollout, halt → { channel, platform, version, previous: { state, rollout }, current: { state, rollout } | null, documentVersion, dryRun, hooks };
 *       ls → { channel, documentVersion, updatedAt, releases: [{ platform, version, url, minSupported, message, releasedAt, state, rules }] };
 *       history → { channel, entries: [{ at, actor, version, action, platform, appVersion, … }] };
 *       resolve → { channel, documentVersion, update, latest, url, force, message, reason }
 */
import { parseMessage } from '../../release/rules.js';
import type { Command } from 'commander';
import { assertKnownPlatforms } from '../../release/platforms.js';
import { formatTable } from '../../format.js';
import { buildRules, describeRollout, describeRules, parseRollout, type RuleFlags } from '../../release/rules.js';
import { withContext, type CommandContext, type GlobalOptions } from '../context.js';
import { addReaderOptions, deviceFacts, deviceSource, type DeviceFlags, type ReaderFlags } from '../device-options.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import { addRuleOptions } from '../rule-options.js';
import type { Session } from '../session.js';
import { loadPublicKeys } from '../trust-options.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';

interface AddFlags extends WriteFlags, RuleFlags {
  version: string;
  url: string;
  minSupported?: string;
  message?: string;
}

type ReadFlags = GlobalOptions & { channel?: string };
/** Loaded when an app-release command runs, so every other command starts without them. */
const workflows = () => import('../../workflows/app-releases.js');
const edits = () => import('../../release/app-release-operations.js');

const readChannel = (command: Command) => command.option('--channel <name>', 'channel (default: config channel)');
const when = (at: string) => at.slice(0, 19).replace('T', ' ');

export function registerAppRelease(program: Command, session: Session): void {
  const group = program.command('app-release').description('app-upgrade notices: tell devices a newer app binary is in the store, and force it below a minimum');

  addRuleOptions(addWriteOptions(addChannelOption(group.command('add'))), ['--platform'])
    .description('announce a new app binary to the devices of one platform (gray release with the rule flags)')
    .requiredOption('--platform <name>', 'the binary\'s platform, e.g. ios')
    .requiredOption('--version <semver>', "the binary's version: above the platform's others on the channel")
    .requiredOption('--url <https-url>', 'where the binary is: its store page (https)')
    .option('--min-supported <semver>', 'devices below this app version must upgrade')
    .option('--message <text>', 'shown to the user with the notice')
    .addHelpText(
      'after',
      `
Examples:
  $ update-publish app-release add --platform ios --version 3.2.0 --url https://apps.apple.com/app/id123456789 --rollout 10
  $ update-publish app-release add --platform android --version 3.2.0 --url https://play.google.com/store/apps/details?id=com.example \\
      --min-supported 3.0.0 --message 'A faster map is here' --yes --json`,
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<AddFlags>();
      const { requirePlatform } = await edits();
      const platform = requirePlatform(flags.platform!);
      await withContext(session, flags, async (context) => {
        const channel = context.channelName(flags.channel);
        assertKnownPlatforms([platform], context.config.platforms);
        const rules = buildRules({ ...flags, platform: undefined }, context.config.rules, context.config.platforms);
        const release = { platform, version: flags.version, url: flags.url, minSupported: flags.minSupported, message: flags.message === undefined ? undefined : parseMessage(flags.message), rules };
        const { addAppReleaseTo, describeAppReleaseState } = await workflows();
        const result = await addAppReleaseTo(context, { channel, release, hooks: flags.hooks });
        noteHookFailures(session, result.hooks);
        context.output.result(
          result,
          () =>
            result.unchanged ??
            `${dryRunNote(context.dryRun)}app release ${platform}@${result.version} on ${channel}: ${result.release.state}, ${describeRollout(rules)}; app releases version ${result.documentVersion}`,
        );
      });
    });

  readChannel(group.command('ls'))
    .description("list the channel's app releases, by platform, newest first")
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<ReadFlags>();
      await withContext(session, flags, async (context) => {
        const result = await (await workflows()).listAppReleases(context, context.channelName(flags.channel));
        context.output.result(result, () => {
          if (result.releases.length === 0) return `no app releases on ${result.channel} yet: run 'update-publish app-release add'`;
          const rows = result.releases.map((release) => [
            release.platform,
            release.version,
            release.state,
            `${release.rules.rollout}%`,
            release.minSupported ?? '-',
            describeRules(release.rules),
            release.url,
          ]);
          return `app releases on ${result.channel} (version ${result.documentVersion})\n${formatTable(['platform', 'version', 'state', 'rollout', 'min supported', 'rules', 'url'], rows)}`;
        });
      });
    });

  const change = (action: 'rm' | 'rollout' | 'halt', argument: string, flags: WriteFlags, rollout?: number) =>
    withContext(session, flags, async (context: CommandContext) => {
      const { platform, version } = (await edits()).parseAppReleaseTarget(argument);
      const { changeAppRelease, describeAppReleaseState } = await workflows();
      const channel = context.channelName(flags.channel);
      const result = await changeAppRelease(context, { channel, platform, version, action, rollout, hooks: flags.hooks });
      noteHookFailures(session, result.hooks);
      context.output.result(result, () => {
        if (result.unchanged) return result.unchanged;
        const after = result.current ? describeAppReleaseState(result.current) : 'removed';
        return `${dryRunNote(context.dryRun)}app release ${platform}@${version} on ${channel}: ${describeAppReleaseState(result.previous)} → ${after}; app releases version ${result.documentVersion}`;
      });
    });

  addWriteOptions(addChannelOption(group.command('rm <platform@version>')))
    .description('remove an app release: its devices are no longer told about it')
    .addHelpText('after', '\nExamples:\n  $ update-publish app-release rm ios@3.2.0')
    .action((argument: string, _flags, command: Command) => change('rm', argument, command.optsWithGlobals<WriteFlags>()));

  addWriteOptions(addChannelOption(group.command('rollout <platform@version> <percent>')))
    .description('change the share of devices told (0–100, two decimals); serves a halted release again')
    .addHelpText('after', '\nExamples:\n  $ update-publish app-release rollout ios@3.2.0 50')
    .action((argument: string, percent: string, _flags, command: Command) =>
      change('rollout', argument, command.optsWithGlobals<WriteFlags>(), parseRollout(percent)),
    );

  addWriteOptions(addChannelOption(group.command('halt <platform@version>')))
    .description('tell nobody about an app release from now on (app-release rollout serves it again)')
    .addHelpText('after', '\nExamples:\n  $ update-publish app-release halt ios@3.2.0')
    .action((argument: string, _flags, command: Command) => change('halt', argument, command.optsWithGlobals<WriteFlags>()));

  readChannel(group.command('history'))
    .description("every change to the channel's app releases, newest first, with who and when")
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<ReadFlags>();
      await withContext(session, flags, async (context) => {
        const result = await (await workflows()).appReleaseHistory(context, context.channelName(flags.channel));
        context.output.result(result, () =>
          result.entries.length === 0
            ? `no app-release changes on ${result.channel} yet`
            : `app-release changes on ${result.channel}\n${formatTable(
                ['when', 'who', 'version', 'action', 'release'],
                result.entries.map((entry) => [when(entry.at), entry.actor, String(entry.version), entry.action, `${entry.platform}@${entry.appVersion}`]),
              )}`,
        );
      });
    });

  addReaderOptions(readChannel(group.command('resolve')))
    .description('whether one device should upgrade its app, and must (as update-publish/client resolveAppUpgrade decides)')
    .requiredOption('--platform <name>', 'device platform, e.g. ios')
    .requiredOption('--app-version <semver>', 'app version on the device')
    .option('--device-id <id>', 'device id (decides rollout and whitelist membership)')
    .option('--attr <k=v,…>', 'device attributes, e.g. region=eu,locale=de')
    .option('--now <iso>', 'evaluate time windows at this ISO-8601 time with offset (default: now)')
    .addHelpText('after', '\nExamples:\n  $ update-publish app-release resolve --platform ios --app-version 3.1.0 --device-id abc --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<ReadFlags & DeviceFlags & ReaderFlags>();
      const device = { ...deviceFacts(flags), platform: (await edits()).requirePlatform(flags.platform!), appVersion: flags.appVersion! };
      const publicKeys = await loadPublicKeys(session, flags.publicKey);
      await withContext(session, flags, async (context) => {
        const channel = context.channelName(flags.channel);
        const result = await (await workflows()).resolveDeviceAppUpgrade(deviceSource(session, context.store, flags), channel, device, publicKeys);
        context.output.result(result, () =>
          result.update
            ? `${device.platform} ${device.appVersion}: ${result.force ? 'must upgrade' : 'may upgrade'} to ${result.latest} at ${result.url} (${result.reason})${result.message ? `: ${result.message}` : ''}`
            : `${device.platform} ${device.appVersion}: no upgrade (${result.reason})`,
        );
      });
    });
}
