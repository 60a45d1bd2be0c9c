/**
 * Who must act when the device side refuses: the caller (a wrong argument, a
 * folder that is not an install folder) or nobody but the store's owner (the
 * store, the network or what they served is wrong). No exit codes here: the
 * device library ships inside apps; the CLI maps a fault to its exit code.
 */
export type ProtocolFault = 'input' | 'source';

/** The base of every error the protocol and the device library throw on purpose. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly fault: ProtocolFault = 'source',
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** The channel has no index where the device looks: a wrong channel name or store address (the caller's apps say which flag). */
export class ChannelNotFoundError extends ProtocolError {
  constructor(
    readonly channel: string,
    location: string,
    key: string,
  ) {
    super(`channel '${channel}' has no index at ${location} (${key}); check the channel name and the store address`);
    this.name = 'ChannelNotFoundError';
  }
}

/**
 * An object or document in the store is not what the release says it is:
 * missing, altered, badly signed. Carries the object key and the problem, so
 * `fetch` can refuse it in one line and `verify` can list it.
 */
export class IntegrityError extends ProtocolError {
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${key}: ${problem}`);
    this.name = 'IntegrityError';
  }
}
