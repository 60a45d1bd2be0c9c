import { ExitCode, UserError } from '../errors.js';

/**
 * An object or document in the store is not what the release says it is:
 * missing, altered, badly signed. Carries the object key and the problem, so
 * `fetch` can refuse it in one line and `verify` can list it.
 */
export class IntegrityError extends UserError {
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${key}: ${problem}`, ExitCode.failure);
    this.name = 'IntegrityError';
  }
}

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
export class DamagedBaseError extends UserError {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`installed file ${JSON.stringify(path)} ${why}; the installed copy is damaged, install the full package`, ExitCode.failure);
    this.name = 'DamagedBaseError';
  }
}
