import type { Command } from 'commander';
import semver from 'semver';
import { resolveUpdate, type DeviceRequest } from '../../client/resolve.js';
import { UserError } from '../../errors.js';
import { readIndex } from '../../release/write-index.js';
import { requireChannel, withContext, type GlobalOptions } from '../context.js';

interface ResolveFlags extends GlobalOptions {
  channel?: string;
  package: string;
  platform?: string;
  appVersion?: string;
  deviceId?: string;
  installed?: string;
  now?: string;
}

export function registerResolve(program: Command): void {
  program
    .command('resolve')
    .description('show what a device gets: the release, full or delta, and why')
    .requiredOption('--package <id>', 'package id')
    .option('--channel <name>', 'channel the app reads (default: config channel)')
    .option('--platform <name>', 'device platform, e.g. ios')
    .option('--app-version <semver>', 'app version on the device')
    .option('--device-id <id>', 'device id (decides rollout membership)')
    .option('--installed <version>', 'package version the device has')
    .option('--now <iso>', 'evaluate time windows at this moment (default: now)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ update-publish resolve --package maps --platform ios --app-version 2.0.0 --device-id abc --json\n  $ update-publish resolve --package maps --device-id abc --installed 1.0.0',
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<ResolveFlags>();
      await withContext(flags, async ({ config, store, output }) => {
        const channel = requireChannel(flags.channel, config.channel);
        const now = flags.now === undefined ? new Date() : new Date(flags.now);
        if (Number.isNaN(now.getTime())) throw new UserError(`--now '${flags.now}' is not an ISO-8601 date; use e.g. 2026-12-01T00:00:00Z`);
        for (const [flag, value] of [['--installed', flags.installed], ['--app-version', flags.appVersion]] as const) {
          if (value !== undefined && !semver.valid(value)) throw new UserError(`${flag} '${value}' is not a semver version; use e.g. 2.0.0`);
        }
        const { index } = await readIndex(store, channel);
        const request: DeviceRequest = {
          package: flags.package,
          platform: flags.platform?.toLowerCase(),
          appVersion: flags.appVersion,
          deviceId: flags.deviceId,
          installed: flags.installed,
          now,
        };
        const resolution = resolveUpdate(index, request);
        output.result(resolution, () =>
          resolution.update
            ? `${flags.package}: ${resolution.kind} update to ${resolution.version}${resolution.mandatory ? ' (mandatory)' : ''}: ${resolution.key} (${resolution.reason})`
            : `${flags.package}: no update (${resolution.reason}${resolution.version ? `, ${resolution.version}` : ''})`,
        );
      });
    });
}
