import type { TargetingRules } from '../../protocol/types.js';
import { whitelistsOfDevice as membershipOf } from '../read-documents.js';
import type { WhitelistLookup } from '../rule-match.js';
import type { WhitelistBindings } from '../../protocol/whitelist.js';
import { asTrusted, type TrustedKeys } from './documents.js';
import type { UpdateSource } from './source.js';

/** Membership in the whitelists these rules name (read-documents.ts), with Node keys accepted too. */
export const whitelistsOfDevice = (
  source: UpdateSource,
  rules: Iterable<TargetingRules>,
  deviceId: string | undefined,
  publicKeys: TrustedKeys,
  bindings?: WhitelistBindings,
): Promise<WhitelistLookup | undefined> => membershipOf(source, rules, deviceId, asTrusted(publicKeys), bindings);
