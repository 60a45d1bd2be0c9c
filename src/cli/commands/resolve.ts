import { resolve } from 'node:path';
/**
 * `resolve`: what a device gets, read as a device reads it (the index
 * reader of update-publish/client, signatures with --public-key, an expired
 * index refused) and computed by the same code apps import, with whitelist
 * membership read from the store's shards (only those the asked ids fall in).
 *
 * JSON: the Resolution { update, version, kind, patched, key, size, sha256, manifestKey, mandatory, reason }.
 * With --devices FILE: one JSON object a line (JSON Lines, also under --json), the
 * Resolution with `deviceId` first, in the order of the file.
 */
import { plural } from '../../format.js';
import { once } from 'node:events';
import type { Command } from 'commander';
import { isProtocolVersion } from '../../protocol/version.js';
import type { DeviceRequest } from '../../client/resolve.js';
import { UserError } from '../../errors.js';
import { readIds, type IdLine } from '../../channel/id-file.js';
import { addDeviceOptions, addReaderOptions, deviceFacts, deviceSource, type DeviceFlags, type ReaderFlags } from '../device-options.js';
import { openResolver } from '../../workflows/resolve.js';
import { loadPublicKeys } from '../trust-options.js';
import { withContext, type GlobalOptions } from '../context.js';
import type { Output } from '../output.js';
import type { Session } from '../session.js';

interface ResolveFlags extends GlobalOptions, DeviceFlags, ReaderFlags {
  channel?: string;
  package: string;
  installed?: string;
  devices?: string;
  patches?: boolean;
}

/** Devices resolved per batch: bounds memory and the shards read ahead of resolving. */
const BATCH_SIZE = 2_000;

export function registerResolve(program: Command, session: Session): void {
  addReaderOptions(addDeviceOptions(
    program
      .command('resolve')
      .description('show what a device gets: the release, full or delta, and why')
      .requiredOption('--package <id>', 'package id')
      .option('--channel <name>', 'channel the app reads (default: config channel)')
      .option('--device-id <id>', 'device id (decides rollout and whitelist membership)')
      .option('--devices <file>', 'resolve every device id in FILE (one a line); prints one JSON object a line')
      .option('--installed <version>', 'package version the device has')
      .option('--patches', 'the device can apply binary patches: offer the patched delta where there is one')
      .option('--no-patches', 'the device cannot apply binary patches (the default)'),
  ))
    .addHelpText(
      'after',
      '\nExamples:\n  $ update-publish resolve --package maps --platform ios --app-version 2.0.0 --device-id abc --json\n  $ update-publish resolve --package maps --device-id abc --installed 1.0.0 --attr region=eu\n  $ update-publish resolve --package maps --devices device-ids.txt > answers.jsonl',
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<ResolveFlags>();
      const request = deviceRequest(flags);
      if (flags.devices !== undefined && flags.deviceId !== undefined) {
        throw new UserError('--devices and --device-id are exclusive; give one device, or a file of them');
      }
      const publicKeys = await loadPublicKeys(session, flags.publicKey);
      await withContext(session, flags, async (context) => {
        const { store, output } = context;
        const channel = await context.channel(flags.channel);
        const resolver = await openResolver(context, { channel, packageId: request.package, source: deviceSource(session, store, flags), publicKeys, now: request.now ?? new Date() });
        if (flags.devices !== undefined) await resolveBatch(resolver, request, flags.devices, output, session);
        else await resolveOne(resolver, request, output);
        for (const name of resolver.absentWhitelists()) output.warn(`whitelist '${name}' named by a rule is not in the store; nobody is in it`);
      }, { configOptional: true });
    });
}

type Resolver = Awaited<ReturnType<typeof openResolver>>;

/** The flags as a DeviceRequest, every value checked before the store is opened. */
function deviceRequest(flags: ResolveFlags): DeviceRequest {
  if (flags.installed !== undefined && !isProtocolVersion(flags.installed)) throw new UserError(`--installed '${flags.installed}' is not a SemVer 2.0.0 version (no leading 'v', no spaces); use e.g. 2.0.0`);
  return { ...deviceFacts(flags), package: flags.package, installed: flags.installed, patches: flags.patches === true };
}

async function resolveOne(resolver: Resolver, request: DeviceRequest, output: Output): Promise<void> {
  const [resolution] = await resolver.resolve([request]);
  output.result(resolution, () =>
    resolution.update
      ? `${request.package}: ${resolution.patched ? 'patched ' : ''}${resolution.kind} update to ${resolution.version}${resolution.mandatory ? ' (mandatory)' : ''}: ${resolution.key} (${resolution.reason})`
      : `${request.package}: no update (${resolution.reason}${resolution.version ? `, ${resolution.version}` : ''})`,
  );
}

async function* batches(lines: AsyncIterable<IdLine>, size: number): AsyncGenerator<string[]> {
  let batch: string[] = [];
  for await (const { id } of lines) {
    batch.push(id);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** JSON Lines on stdout, batch by batch, waiting for the pipe to drain. */
async function resolveBatch(resolver: Resolver, request: DeviceRequest, file: string, output: Output, session: Session) {
  let devices = 0;
  for await (const deviceIds of batches(readIds(resolve(session.cwd, file)), BATCH_SIZE)) {
    const resolutions = await resolver.resolve(deviceIds.map((deviceId) => ({ ...request, deviceId })));
    const text = deviceIds.map((deviceId, at) => JSON.stringify({ deviceId, ...resolutions[at] })).join('\n');
    const { stdout } = session.io;
    if (!stdout.write(`${session.redact(text)}\n`)) await once(stdout, 'drain');
    devices += deviceIds.length;
  }
  if (devices === 0) throw new UserError(`${file} holds no device ids; give one id a line`);
  output.info(`resolved ${plural(devices, 'device')} (${plural(resolver.shardsRead(), 'whitelist shard')} read)`);
}
