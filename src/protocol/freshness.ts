import { isExpired } from './serving-window.js';
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

/** What freshness judges of a document devices poll: the channel index, switches, app releases. */
export interface FreshnessFields {
  channel: string;
  /** One more on every write; absent (0) in documents written before it. */
  version?: number;
  /** Refused at or after this instant; absent: never expires. */
  expires?: string;
}

/** What a device kept of one polled document of a channel. */
export interface DocumentTrust {
  channel: string;
  /** The highest version accepted. */
  version: number;
  /** A signed one was accepted once. */
  signed: boolean;
}

/**
 * Why a device must refuse this document (`what`: "index", "switches
 * document", …), or undefined when it may use it. `signed`: its signature was
 * checked and valid. `remembered`: what the device kept of it (absent on its
 * first read, or for a device that keeps nothing: then only expiry counts).
 */
export function documentFreshnessProblem(
  document: FreshnessFields,
  what: string,
  check: { now: Date; signed: boolean; remembered?: DocumentTrust },
): { reason: FreshnessFailure; message: string } | undefined {
  const version = document.version ?? 0;
  const known = check.remembered?.channel === document.channel ? check.remembered : undefined;
  if (known?.signed && !check.signed) {
    return { reason: 'unsigned', message: `channel '${document.channel}' served an unsigned ${what} after a signed one was accepted: the store was replaced or its signatures stripped; refused` };
  }
  if (known && version < known.version) {
    return {
      reason: 'rollback',
      message: `channel '${document.channel}' ${what} is version ${version}, older than version ${known.version} accepted before: a rollback (an old ${what} served again); refused`,
    };
  }
  if (isExpired(document, check.now)) {
    return {
      reason: 'expired',
      message: `channel '${document.channel}' ${what} expired at ${document.expires}: the mirror serves a frozen copy, or the publisher has not refreshed it; refused`,
    };
  }
  return undefined;
}

/** What to remember of a channel document (switches, app releases) after accepting it: never less than before (PROTOCOL.md §14). */
export function rememberDocument(document: FreshnessFields, signed: boolean, remembered?: DocumentTrust): DocumentTrust {
  const known = remembered?.channel === document.channel ? remembered : undefined;
  return { channel: document.channel, version: Math.max(document.version ?? 0, known?.version ?? 0), signed: signed || Boolean(known?.signed) };
}

/** documentFreshnessProblem as a throw: a FreshnessError naming the reason. */
export function assertDocumentFresh(document: FreshnessFields, what: string, check: { now: Date; signed: boolean; remembered?: DocumentTrust }): void {
  const problem = documentFreshnessProblem(document, what, check);
  if (problem) throw new FreshnessError(problem.message, problem.reason);
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
  return documentFreshnessProblem(index, 'index', {
    ...check,
    remembered: remembered && { channel: remembered.channel, version: remembered.indexVersion, signed: remembered.signed },
  });
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
