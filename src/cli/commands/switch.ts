/**
 * `switch set|ls|get|rm|history|rollback|resolve`: remote switches, one
 * versioned document per channel (channels/<channel>/switches.json). A key is
 * a default value plus ordered targeted variants; the first variant whose
 * rules match a device wins.
 *
 * JSON: set → { channel, key, variant, value, previous, documentVersion, dryRun, hooks };
 *       rm → { channel, key, variant, documentVersion, dryRun, hooks };
 *       rollback → { channel, from, to, keys, documentVersion, dryRun, hooks };
 *       ls → { channel, documentVersion, updatedAt, switches: [{ key, type, default, variants: [{ variant, value, rules }] }] };
 *       get → { channel, documentVersion, key, type, default, variants };
 *       history → { channel, key, entries: [{ at, actor, version, action, keys, … }] };
 *       resolve → { channel, documentVersion, deviceId, values, reasons }
 */
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { buildRules, targetingOf, type RuleFlags } from '../../release/rules.js';
import { withContext, type GlobalOptions } from '../context.js';
import { addDeviceOptions, addReaderOptions, deviceFacts, deviceSource, type DeviceFlags, type ReaderFlags } from '../device-options.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import { addRuleOptions, givenRuleFlags } from '../rule-options.js';
import type { Session } from '../session.js';
import { describeVariant, renderResolution, renderSwitch, renderSwitchHistory, renderSwitchList, shownValue, variantName } from '../switch-render.js';
import { loadPublicKeys } from '../trust-options.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';

interface SetFlags extends WriteFlags, RuleFlags {
  default?: boolean;
  new?: boolean;
  type?: string;
}

/** A whole number from 0 (--to, --variant). */
function parseCount(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UserError(`${flag} '${text}' is not a whole number; give e.g. ${flag} 2`);
  return Number(text);
}

/** Loaded when a switch command runs, so every other command starts without them. */
const workflows = () => import('../../workflows/switches.js');
const edits = () => import('../../release/switch-operations.js');

const readChannel = (command: Command) => command.option('--channel <name>', 'channel (default: config channel)');

export function registerSwitch(program: Command, session: Session): void {
  const group = program.command('switch').description('remote switches: values that change app logic, targeted with the release rules');

  addRuleOptions(addWriteOptions(addChannelOption(group.command('set <key> <value>'))), ['--mandatory'])
    .description("set a key's default value, or (with rule flags) the value of a targeted variant; <value> is JSON")
    .option('--default', "set the key's default value (what devices no variant matches get)")
    .option('--type <type>', 'fix the key\'s type at its first set: boolean, number, string or json')
    .option('--new', 'the key is new, though it is close to an existing one (otherwise refused as a likely typo)')
    .addHelpText(
      'after',
      `
<value> is JSON: true, 42, -1, '"blue"' (a string in double quotes), '{"max":3}'.
Examples:
  $ update-publish switch set newCheckout false --type boolean
  $ update-publish switch set newCheckout true --platform ios --rollout 10
  $ update-publish switch set theme '"winter"' --starts-at 2026-12-01T00:00:00Z --ends-at 2027-01-07T00:00:00Z --yes --json`,
    )
    .action(async (key: string, text: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<SetFlags>();
      const { parseSwitchType, parseSwitchValue } = await edits();
      const value = parseSwitchValue(text);
      const type = flags.type === undefined ? undefined : parseSwitchType(flags.type);
      const ruleFlags = givenRuleFlags(command);
      if (flags.default && ruleFlags.length > 0) throw new UserError(`--default sets the key's default value, which has no rules; drop ${ruleFlags.join(', ')} or --default`);
      await withContext(session, flags, async (context) => {
        const channel = context.channelName(flags.channel);
        const rules = ruleFlags.length > 0 ? targetingOf(buildRules(flags, context.config.rules, context.config.platforms)) : undefined;
        const result = await (await workflows()).setSwitchValue(context, { channel, key, value, rules, type, isNew: flags.new, hooks: flags.hooks });
        noteHookFailures(session, result.hooks);
        context.output.result(
          result,
          () =>
            result.unchanged ??
            `${dryRunNote(context.dryRun)}switch ${key} on ${channel}: ${variantName(result.variant)}${result.rules ? ` (${describeVariant(result.rules)})` : ''} = ${shownValue(value)}` +
            `${result.previous === null ? '' : ` (was ${shownValue(result.previous)}${result.previousRules ? ` at ${result.previousRules.rollout}%` : ''})`}; switches version ${result.documentVersion}`,
        );
      });
    });

  readChannel(group.command('ls'))
    .description("list the channel's switches: default values and targeted variants")
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions & { channel?: string }>();
      await withContext(session, flags, async (context) => {
        const result = await (await workflows()).listSwitches(context, context.channelName(flags.channel));
        context.output.result(result, () => renderSwitchList(result));
      });
    });

  readChannel(group.command('get <key>'))
    .description('show one key: its type, default value and numbered variants')
    .action(async (key: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions & { channel?: string }>();
      await withContext(session, flags, async (context) => {
        const result = await (await workflows()).getSwitch(context, context.channelName(flags.channel), key);
        context.output.result(result, () => renderSwitch(result));
      });
    });

  addWriteOptions(addChannelOption(group.command('rm <key>')))
    .description('remove a key, or one of its variants (--variant N, numbered as switch get shows them)')
    .option('--variant <n>', 'remove only this variant (from 1)')
    .addHelpText('after', '\nExamples:\n  $ update-publish switch rm oldBanner\n  $ update-publish switch rm newCheckout --variant 2 --yes')
    .action(async (key: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<WriteFlags & { variant?: string }>();
      const variant = flags.variant === undefined ? undefined : parseCount('--variant', flags.variant);
      await withContext(session, flags, async (context) => {
        const channel = context.channelName(flags.channel);
        const result = await (await workflows()).removeSwitchKey(context, { channel, key, variant, hooks: flags.hooks });
        noteHookFailures(session, result.hooks);
        context.output.result(
          result,
          () =>
            result.unchanged ?? `${dryRunNote(context.dryRun)}removed ${variant === undefined ? `switch ${key}` : `variant ${variant} of switch ${key}`} on ${channel}; switches version ${result.documentVersion}`,
        );
      });
    });

  readChannel(group.command('history [key]'))
    .description("every change to the channel's switches (or to one key), newest first, with who and when")
    .action(async (key: string | undefined, _flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions & { channel?: string }>();
      await withContext(session, flags, async (context) => {
        const result = await (await workflows()).switchHistory(context, context.channelName(flags.channel), key);
        context.output.result(result, () => renderSwitchHistory(result.channel, result.entries));
      });
    });

  addWriteOptions(addChannelOption(group.command('rollback')))
    .description('serve the switches of an earlier version again (default: the last that differs from the current), as a new version')
    .option('--to <doc-version>', 'the switches document version to go back to (see switch history)')
    .addHelpText('after', '\nExamples:\n  $ update-publish switch rollback\n  $ update-publish switch rollback --to 4 --channel staging --yes --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<WriteFlags & { to?: string }>();
      const to = flags.to === undefined ? undefined : parseCount('--to', flags.to);
      await withContext(session, flags, async (context) => {
        const channel = context.channelName(flags.channel);
        const result = await (await workflows()).rollbackSwitches(context, { channel, to, hooks: flags.hooks });
        noteHookFailures(session, result.hooks);
        context.output.result(
          result,
          () =>
            result.unchanged ?? `${dryRunNote(context.dryRun)}switches on ${channel}: version ${result.from} → the switches of version ${result.to} (${result.keys.join(', ')}); switches version ${result.documentVersion}`,
        );
      });
    });

  addReaderOptions(addDeviceOptions(readChannel(group.command('resolve'))))
    .description("every key's value for one device, and why (as update-publish/client resolveSwitches decides)")
    .requiredOption('--device-id <id>', 'device id (decides rollouts and whitelist membership)')
    .addHelpText('after', '\nExamples:\n  $ update-publish switch resolve --device-id abc --platform ios --app-version 2.3.0\n  $ update-publish switch resolve --device-id abc --public-key keys/signing-public.pem --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions & DeviceFlags & ReaderFlags & { channel?: string }>();
      const device = deviceFacts(flags);
      const publicKeys = await loadPublicKeys(session, flags.publicKey);
      await withContext(session, flags, async (context) => {
        const channel = context.channelName(flags.channel);
        const result = await (await workflows()).resolveDeviceSwitches(deviceSource(session, context.store, flags), channel, device, publicKeys);
        const document = { channel, documentVersion: result.documentVersion, deviceId: device.deviceId, values: result.values, reasons: result.reasons };
        context.output.result(document, () => renderResolution(document));
      });
    });
}
