/** Exit codes, documented in docs/troubleshooting.md. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  conflict: 3,
  hookFailed: 4,
  /** The person asked to confirm a write said no: nothing was written. */
  declined: 5,
  /** Ctrl-C / SIGTERM (128 + SIGINT). */
  interrupted: 130,
} as const;

/**
 * An error the user can fix: rendered as one line (message + hint), no stack
 * unless --debug. Anything that is not a UserError is a bug or an outage and
 * is rendered as such by the top-level handler.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A write lost a race more times than we retry (exit 3). */
export class ConflictError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.conflict);
    this.name = 'ConflictError';
  }
}

/** The store (folder, S3) failed in a way the user must act on (exit 1). */
export class StoreError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.failure);
    this.name = 'StoreError';
  }
}

/** The confirmation was declined (exit 5): nothing was written, by the person's choice. */
export class DeclinedError extends UserError {
  constructor(message = 'cancelled; nothing was written') {
    super(message, ExitCode.declined);
    this.name = 'DeclinedError';
  }
}
