import type { SwitchReason } from '../client/switches.js';
import { formatTable } from '../format.js';
import type { JsonValue } from '../protocol/switches.js';
import type { TargetingRules } from '../protocol/types.js';
import { describeRollout, describeRules } from '../release/rules.js';
import type { SwitchHistoryEntry, SwitchListing } from '../workflows/switches.js';

/** How `switch` commands show switches to people (their --json is the workflows' results as they are). */

const MAX_SHOWN = 60;

/** A value as JSON on one line, shortened. */
export const shownValue = (value: JsonValue | undefined) => {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
};

export const variantName = (variant: number | null) => (variant === null ? 'default' : `variant ${variant}`);
export const describeVariant = (rules: TargetingRules) => describeRollout(rules);
const when = (at: string) => at.slice(0, 19).replace('T', ' ');

export function renderSwitchList(result: { channel: string; documentVersion: number; switches: SwitchListing[] }): string {
  if (result.switches.length === 0) return `no switches on ${result.channel} yet: run 'update-publish switch set <key> <value>'`;
  const rows = result.switches.map((entry) => [
    entry.key,
    entry.type ?? '-',
    shownValue(entry.default),
    entry.variants.map((variant) => `${variant.variant}: ${shownValue(variant.value)} (${describeVariant(variant.rules)})`).join(' | ') || '-',
  ]);
  return `switches on ${result.channel} (version ${result.documentVersion})\n${formatTable(['key', 'type', 'default', 'variants (first match wins)'], rows)}`;
}

export function renderSwitch(result: SwitchListing & { channel: string; documentVersion: number }): string {
  const head = `${result.key} on ${result.channel} (switches version ${result.documentVersion}): type ${result.type ?? 'any'}, default ${shownValue(result.default)}`;
  if (result.variants.length === 0) return `${head}\nno variants`;
  const rows = result.variants.map((variant) => [String(variant.variant), shownValue(variant.value), `${variant.rules.rollout}%`, describeRules(variant.rules)]);
  return `${head}\n${formatTable(['variant', 'value', 'rollout', 'rules'], rows)}`;
}

function historyDetails(entry: SwitchHistoryEntry): string {
  if (entry.action === 'rollback') return `to the switches of version ${String(entry.to)}`;
  if (entry.action === 'rm') return entry.variant ? `variant ${String(entry.variant)}` : 'the key';
  const value = `${variantName((entry.variant as number | null) ?? null)} = ${shownValue(entry.value as JsonValue)}`;
  return entry.previous === null || entry.previous === undefined ? value : `${value} (was ${shownValue(entry.previous as JsonValue)})`;
}

export function renderSwitchHistory(channel: string, entries: SwitchHistoryEntry[]): string {
  if (entries.length === 0) return `no switch changes on ${channel} yet`;
  const rows = entries.map((entry) => [when(entry.at), entry.actor, String(entry.version), entry.action, (entry.keys ?? []).join(', '), historyDetails(entry)]);
  return `switch changes on ${channel}\n${formatTable(['when', 'who', 'version', 'action', 'keys', 'details'], rows)}`;
}

export function renderResolution(result: { channel: string; deviceId?: string; values: Record<string, JsonValue>; reasons: Record<string, SwitchReason> }): string {
  const keys = Object.keys(result.values).sort();
  if (keys.length === 0) return `no switches on ${result.channel}`;
  const why = (reason: SwitchReason) => (reason.source === 'default' ? 'default (no variant matches)' : `variant ${reason.variant}`);
  const rows = keys.map((key) => [key, shownValue(result.values[key]), why(result.reasons[key])]);
  return `switches for ${result.deviceId} on ${result.channel}\n${formatTable(['key', 'value', 'why'], rows)}`;
}
