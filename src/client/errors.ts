import { IntegrityError, ProtocolError } from '../protocol/errors.js';

export { ChannelNotFoundError, IntegrityError, ProtocolError, type ProtocolFault } from '../protocol/errors.js';

/** A signature is missing or does not verify; the index is worth one re-read (a publisher between its two writes). */
export class SignatureError extends IntegrityError {
  constructor(key: string, problem: string) {
    super(key, problem);
    this.name = 'SignatureError';
  }
}

/**
 * A file of the installed copy a delta builds on is missing or changed (the
 * app or the user touched it): the full package is needed instead.
 */
export class DamagedBaseError extends ProtocolError {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`installed file ${JSON.stringify(path)} ${why}; the installed copy is damaged, install the full package`);
    this.name = 'DamagedBaseError';
  }
}
