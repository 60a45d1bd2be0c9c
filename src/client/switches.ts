import { switchSalt } from '../protocol/rollout.js';
import type { JsonValue, SwitchesDocument } from '../protocol/switches.js';
import { assertDeviceVersion, rulesMatch, type DeviceFacts, type WhitelistLookup } from './rule-match.js';

/** Why a key has its value on this device: its default, or the numbered variant (from 1) that matched first. */
export type SwitchReason = { source: 'default' } | { source: 'variant'; variant: number };

export interface SwitchResolution {
  values: Record<string, JsonValue>;
  reasons: Record<string, SwitchReason>;
}

/**
 * Every key's value for one device: the first variant whose rules match it
 * (the same evaluation as package releases; rollout buckets salted per key, so
 * two 10 % switches select different devices), else the key's default. Pure,
 * so apps and edge functions import it and agree with `switch resolve`.
 */
export function resolveSwitches(document: SwitchesDocument, device: DeviceFacts = {}, isWhitelisted?: WhitelistLookup): SwitchResolution {
  assertDeviceVersion('app version', device.appVersion);
  const now = device.now ?? new Date();
  const values: Record<string, JsonValue> = {};
  const reasons: Record<string, SwitchReason> = {};
  for (const [key, entry] of Object.entries(document.switches)) {
    const matched = entry.variants.findIndex((variant) => rulesMatch(variant.rules, device, now, switchSalt(key), isWhitelisted));
    values[key] = matched === -1 ? entry.default : entry.variants[matched].value;
    reasons[key] = matched === -1 ? { source: 'default' } : { source: 'variant', variant: matched + 1 };
  }
  return { values, reasons };
}
