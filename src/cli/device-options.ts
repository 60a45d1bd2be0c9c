import type { Command } from 'commander';
import { isProtocolVersion } from '../protocol/version.js';
import type { DeviceFacts } from '../client/rule-match.js';
import { httpSource } from '../client/fetch/http-source.js';
import { credentialsFromCommand } from '../client/fetch/credentials-command.js';
import { storeSource, type UpdateSource } from '../client/fetch/source.js';
import { UserError } from '../errors.js';
import { parseAttributes, parseDate } from '../release/rules.js';
import type { Store } from '../store/store.js';
import { collect } from './trust-options.js';
import type { Session } from './session.js';

/** What a device tells about itself, as `resolve`, `switch resolve` and `app-release resolve` take it. */
export interface DeviceFlags {
  platform?: string;
  appVersion?: string;
  deviceId?: string;
  attr?: string;
  now?: string;
}

/** How a resolving command reads the store: as a device would (through a CDN, signatures checked). */
export interface ReaderFlags {
  publicKey: string[];
  from?: string;
  credentialsCommand?: string;
}

/** --platform, --app-version, --attr, --now (--device-id is each command's own: required or not). */
export function addDeviceOptions(command: Command): Command {
  return command
    .option('--platform <name>', 'device platform, e.g. ios')
    .option('--app-version <semver>', 'app version on the device')
    .option('--attr <k=v,…>', 'device attributes, e.g. region=eu,locale=de')
    .option('--now <iso>', 'evaluate time windows at this ISO-8601 time with offset (default: now)');
}

export function addReaderOptions(command: Command): Command {
  return command
    .option('--public-key <file>', 'trusted signing public key: the document must carry a valid signature (repeat during a key rotation)', collect, [])
    .option('--from <url>', 'read through this http(s) base URL (the CDN in front of the store) instead of the store')
    .option('--credentials-command <cmd>', "a private store's credentials (with --from): a command printing what 'access sign --json' prints");
}

/** The flags as device facts, every value checked before the store is opened. */
export function deviceFacts(flags: DeviceFlags): DeviceFacts {
  if (flags.appVersion !== undefined && !isProtocolVersion(flags.appVersion)) {
    throw new UserError(`--app-version '${flags.appVersion}' is not a SemVer 2.0.0 version (no leading 'v', no spaces); use e.g. 2.0.0`);
  }
  return {
    platform: flags.platform,
    appVersion: flags.appVersion,
    deviceId: flags.deviceId,
    now: flags.now === undefined ? new Date() : new Date(parseDate('--now', flags.now)),
    ...(flags.attr !== undefined && { attributes: parseAttributes(flags.attr) }),
  };
}

/** The store, or with --from the CDN (a credentials command runs in the run's folder, with its environment). */
export function deviceSource(session: Pick<Session, 'cwd' | 'env'>, store: Store, flags: ReaderFlags): UpdateSource {
  if (flags.credentialsCommand !== undefined && !flags.from) throw new UserError('--credentials-command applies with --from https://… (a CDN in front of a private store); a store read directly needs none');
  if (!flags.from) return storeSource(store);
  return httpSource(flags.from, undefined, { credentials: flags.credentialsCommand === undefined ? undefined : credentialsFromCommand(flags.credentialsCommand, session) });
}
