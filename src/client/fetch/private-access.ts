import { packagesPrefix } from '../../protocol/layout.js';
import { parseAccessCredential, type AccessCredential } from '../../protocol/private-access.js';
import { ProtocolError } from '../errors.js';

/**
 * A private store's credentials on the device (PROTOCOL.md "Private
 * stores"): asked for before the first package object (what every scope makes
 * private), or after a 403 elsewhere (scope `all`); asked again once when the
 * store refuses the credential held (an expired entitlement). The credential
 * itself never reaches a message.
 */

/** Returns what `update-publish access sign --json` prints: the app's login-backed call, or a command (credentials-command.ts). */
export type CredentialsCallback = () => Promise<unknown>;

/** The store answered 403 and no credentials were given: the store is private. */
export class CredentialsRequiredError extends ProtocolError {
  constructor(readonly shown: string) {
    super(`GET ${shown} answered HTTP 403: the store requires credentials for it (or, behind a private bucket, it is missing)`);
    this.name = 'CredentialsRequiredError';
  }
}

/** The store refused a credential fresh from the callback. */
export class CredentialsRefusedError extends ProtocolError {
  constructor(shown: string) {
    super(`GET ${shown} answered HTTP 403 to a fresh credential: the credentials given do not open it (another key pair, resource or address, or already expired); check what the credentials command signs`);
    this.name = 'CredentialsRefusedError';
  }
}

export interface PrivateAccess {
  /** The credential to send for `key` on a first attempt (undefined: none). */
  before(key: string): Promise<AccessCredential | undefined>;
  /** After a 403 to a request sent with `sent`: the credential to retry with once, or the error. */
  afterRefusal(shown: string, sent: AccessCredential | undefined): Promise<AccessCredential>;
}

export function privateAccess(credentials: CredentialsCallback | undefined): PrivateAccess {
  let current: Promise<AccessCredential> | undefined;
  const obtain = (): Promise<AccessCredential> => {
    const pending = (async () => {
      const parsed = parseAccessCredential(await credentials!());
      if (typeof parsed === 'string') throw new ProtocolError(`the credentials given are not what 'update-publish access sign --json' prints: ${parsed}`);
      return parsed;
    })();
    current = pending;
    // A failed call is not kept: the next request asks again.
    pending.catch(() => {
      if (current === pending) current = undefined;
    });
    return pending;
  };
  return {
    async before(key) {
      if (!credentials) return undefined;
      if (current) return current;
      return key.startsWith(packagesPrefix) ? obtain() : undefined;
    },
    async afterRefusal(shown, sent) {
      if (!credentials) throw new CredentialsRequiredError(shown);
      // A concurrent request may have refreshed it already: use that one instead of asking again.
      const held = current && (await current.catch(() => undefined));
      if (held && held !== sent) return held;
      return obtain();
    },
  };
}
