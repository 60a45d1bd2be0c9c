import { ProtocolError } from './errors.js';
import type { ChannelIndex } from './types.js';

/**
 * What a device remembers of a channel between checks, so a mirror cannot
 * turn the clock back: the highest index version it accepted, and whether
 * the channel was ever signed.
 */
export interface ChannelTrust {
  channel: string;
  /** The highest channel index `version` accepted. */
  indexVersion: number;
  /** A signed index was accepted once: an unsigned one is refused from then on. */
  signed: boolean;
}

export type FreshnessFailure = 'rollback' | 'expired' | 'unsigned';

/** The index is older than one the device accepted, expired, or unsigned where it was signed. */
export class FreshnessError extends ProtocolError {
  constructor(
    message: string,
    readonly reason: FreshnessFailure,
  ) {
    super(message);
    this.name = 'FreshnessError';
  }
}

/**
 * Why a device must refuse this index, or undefined when it may use it.
 * `signed`: its signature was checked and valid. `remembered`: what the
 * device kept of this channel (absent on its first check). Pure: apps that
 * fetch the index themselves call it exactly as the reference client does.
 */
export function indexFreshnessProblem(
  index: ChannelIndex,
  check: { now: Date; signed: boolean; remembered?: ChannelTrust },
): { reason: FreshnessFailure; message: string } | undefined {
  const { remembered } = check;
  const version = index.version ?? 0;
  const known = remembered?.channel === index.channel ? remembered : undefined;
  if (known?.signed && !check.signed) {
    return { reason: 'unsigned', message: `channel '${index.channel}' served an unsigned index after a signed one was accepted: the store was replaced or its signatures stripped; refused` };
  }
  if (known && version < known.indexVersion) {
    return {
      reason: 'rollback',
      message: `channel '${index.channel}' index is version ${version}, older than version ${known.indexVersion} accepted before: a rollback (an old index served again); refused`,
    };
  }
  if (index.expires !== undefined && check.now.getTime() >= Date.parse(index.expires)) {
    return {
      reason: 'expired',
      message: `channel '${index.channel}' index expired at ${index.expires}: the mirror serves a frozen copy, or the publisher has not run 'update-publish refresh'; refused`,
    };
  }
  return undefined;
}

/** indexFreshnessProblem as a throw: a FreshnessError naming the reason. */
export function assertIndexFresh(index: ChannelIndex, check: { now: Date; signed: boolean; remembered?: ChannelTrust }): void {
  const problem = indexFreshnessProblem(index, check);
  if (problem) throw new FreshnessError(problem.message, problem.reason);
}

/** What to remember after accepting `index`: never less than before. */
export function rememberIndex(index: ChannelIndex, signed: boolean, remembered?: ChannelTrust): ChannelTrust {
  const known = remembered?.channel === index.channel ? remembered : undefined;
  return {
    channel: index.channel,
    indexVersion: Math.max(index.version ?? 0, known?.indexVersion ?? 0),
    signed: signed || Boolean(known?.signed),
  };
}
