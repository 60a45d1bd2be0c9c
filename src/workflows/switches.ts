import { asTrusted, type TrustedKeys } from '../client/fetch/documents.js';
import { createUpdater } from '../client/updater.js';
import type { UpdateSource } from '../client/fetch/source.js';
import type { DeviceFacts } from '../client/rule-match.js';
import { SWITCHES } from '../channel/switches-store.js';
import { readDocumentHistory, readDocumentVersion, readChannelDocument, type DocumentHistoryEntry } from '../channel/versioned-document.js';
import { assertWhitelistsExist } from '../channel/whitelists.js';
import { UserError } from '../errors.js';
import type { HookResult } from '../hooks/run-hooks.js';
import { documentSnapshotKey } from '../protocol/layout.js';
import type { SwitchEvent } from '../protocol/release-event.js';
import type { JsonValue, SwitchesDocument, SwitchType, SwitchVariant } from '../protocol/switches.js';
import type { TargetingRules } from '../protocol/types.js';
import { describeRollout } from '../release/rules.js';
import { removeSwitch, requireSwitch, restoreSwitches, setSwitch } from '../release/switch-operations.js';
import type { WorkflowContext } from './context.js';
import { writeDocumentChange } from './document-change.js';

/** Every change to a channel's switches: one history entry, one `switch` event. */
export interface SwitchChangeResult {
  channel: string;
  /** The document's version after the change (in a dry run: as it would be). */
  documentVersion: number;
  /** False when the switches already were as asked: nothing was written, no hook ran (exit 0). */
  changed: boolean;
  unchanged?: string;
  dryRun: boolean;
  hooks: HookResult[];
}

const outcome = (result: { document: { version: number }; changed: boolean; unchanged?: string; hooks: HookResult[] }, dryRun: boolean) => ({
  documentVersion: result.document.version,
  changed: result.changed,
  ...(result.unchanged !== undefined && { unchanged: result.unchanged }),
  dryRun,
  hooks: result.hooks,
});

/** What `switch history` lists: `keys` are the switch keys the change touched. */
export type SwitchHistoryEntry = DocumentHistoryEntry<{ action: SwitchEvent['action']; keys: string[] } & Record<string, unknown>>;

const shown = (value: JsonValue) => JSON.stringify(value);
const variantLabel = (variant: number | null, rules?: TargetingRules) =>
  variant === null ? 'the default' : `variant ${variant}${rules ? ` (${describeRollout(rules)})` : ''}`;
const switchEvent = (action: SwitchEvent['action'], keys: string[], written: Omit<SwitchEvent, 'event' | 'action' | 'keys'>): SwitchEvent => ({
  ...written,
  event: 'switch',
  action,
  keys,
});

/** Sets a key's default (no rules) or the variant with exactly these rules. */
export async function setSwitchValue(
  context: WorkflowContext,
  request: { channel: string; key: string; value: JsonValue; rules?: TargetingRules; type?: SwitchType; isNew?: boolean; hooks: boolean },
): Promise<
  SwitchChangeResult & { key: string; variant: number | null; value: JsonValue; rules: TargetingRules | null; previous: JsonValue | null; previousRules: TargetingRules | null }
> {
  const { channel, key, value, rules } = request;
  await assertWhitelistsExist(context.store, rules?.whitelist);
  const result = await writeDocumentChange(context, {
    kind: SWITCHES,
    channel,
    hooks: request.hooks,
    summary: `switch set ${key}`,
    apply: (current) => setSwitch(current, key, value, { rules, type: request.type, isNew: request.isNew }),
    question: ({ variant, previous, previousRules }) =>
      `Set ${variantLabel(variant, rules)} of switch '${key}' on '${channel}' to ${shown(value)}${previous === null ? '' : ` (was ${shown(previous)}${previousRules ? ` at ${previousRules.rollout}%` : ''})`}?`,
    history: ({ variant, previous, previousRules }) => ({ action: 'set', keys: [key], variant, value, rules: rules ?? null, previous, previousRules }),
    event: (_change, written) => switchEvent('set', [key], written),
  });
  const { variant, previous, previousRules } = result.change;
  return { channel, key, variant, value, rules: rules ?? null, previous, previousRules, ...outcome(result, context.dryRun) };
}

/** Removes a key, or one of its variants (numbered from 1). */
export async function removeSwitchKey(
  context: WorkflowContext,
  request: { channel: string; key: string; variant?: number; hooks: boolean },
): Promise<SwitchChangeResult & { key: string; variant: number | null }> {
  const { channel, key, variant } = request;
  const result = await writeDocumentChange(context, {
    kind: SWITCHES,
    channel,
    hooks: request.hooks,
    summary: `switch rm ${key}`,
    apply: (current) => removeSwitch(current, key, variant),
    question: () => `Remove ${variant === undefined ? `switch '${key}'` : `variant ${variant} of switch '${key}'`} from '${channel}'?`,
    history: ({ removed }) => ({ action: 'rm', keys: [key], variant: variant ?? null, removed }),
    event: (_change, written) => switchEvent('rm', [key], written),
  });
  return { channel, key, variant: variant ?? null, ...outcome(result, context.dryRun) };
}

/** Keys whose entries differ between two documents. */
function differingKeys(a: SwitchesDocument, b: SwitchesDocument): string[] {
  const keys = new Set([...Object.keys(a.switches), ...Object.keys(b.switches)]);
  return [...keys].filter((key) => JSON.stringify(a.switches[key]) !== JSON.stringify(b.switches[key])).sort();
}

async function keptVersion(context: WorkflowContext, channel: string, version: number): Promise<SwitchesDocument> {
  const kept = await readDocumentVersion(context.store, SWITCHES, channel, version);
  const key = SWITCHES.key(channel);
  if (!kept) throw new UserError(`version ${version} of ${key} was not kept (${documentSnapshotKey(key, version)} is missing); choose another with 'update-publish switch history'`);
  return kept;
}

/** The newest earlier version whose switches differ from the current ones (a refresh writes the same switches again). */
async function lastDifferentVersion(context: WorkflowContext, channel: string, current: SwitchesDocument): Promise<{ version: number; document: SwitchesDocument }> {
  for (let version = current.version - 1; version >= 0; version--) {
    const document = await keptVersion(context, channel, version);
    if (differingKeys(document, current).length > 0) return { version, document };
  }
  throw new UserError(`the switches on channel '${channel}' never differed from what they are; nothing to roll back`);
}

/** The switches of an earlier version (default: the last that differs from the current) as a new version. */
export async function rollbackSwitches(
  context: WorkflowContext,
  request: { channel: string; to?: number; hooks: boolean },
): Promise<SwitchChangeResult & { from: number; to: number; keys: string[] }> {
  const { channel } = request;
  const { document: current, key } = await readChannelDocument(context.store, SWITCHES, channel);
  if (current.version === 0) throw new UserError(`channel '${channel}' has no switches yet (${key}); nothing to roll back`);
  if (request.to !== undefined && (!Number.isInteger(request.to) || request.to < 0 || request.to > current.version)) {
    throw new UserError(`--to ${request.to} is not a version of ${key}: give 0–${current.version} (see 'update-publish switch history')`);
  }
  const { version: to, document: earlier } = request.to === undefined ? await lastDifferentVersion(context, channel, current) : { version: request.to, document: await keptVersion(context, channel, request.to) };
  const result = await writeDocumentChange(context, {
    kind: SWITCHES,
    channel,
    hooks: request.hooks,
    summary: `switch rollback to ${to}`,
    apply: (fresh) => {
      const keys = differingKeys(fresh, earlier);
      const unchanged = keys.length === 0 ? `the switches on channel '${channel}' already are those of version ${to}; nothing to roll back` : undefined;
      return { document: restoreSwitches(fresh, earlier), from: fresh.version, keys, ...(unchanged && { unchanged }) };
    },
    question: ({ from, keys }) => `Roll the switches on '${channel}' back from version ${from} to ${to} (changes ${keys.join(', ')})?`,
    history: ({ from, keys }) => ({ action: 'rollback', keys, from, to }),
    event: (change, written) => switchEvent('rollback', change.keys, written),
  });
  return { channel, from: result.change.from, to, keys: result.change.keys, ...outcome(result, context.dryRun) };
}

export interface SwitchListing {
  key: string;
  type: SwitchType | null;
  default: JsonValue;
  variants: ({ variant: number } & SwitchVariant)[];
}

const listing = (key: string, document: SwitchesDocument): SwitchListing => {
  const entry = requireSwitch(document, key);
  return { key, type: entry.type ?? null, default: entry.default, variants: entry.variants.map((variant, at) => ({ variant: at + 1, ...variant })) };
};

/** Every key of the channel, sorted, with its variants numbered from 1. */
export async function listSwitches(context: Pick<WorkflowContext, 'store'>, channel: string) {
  const { document } = await readChannelDocument(context.store, SWITCHES, channel);
  const switches = Object.keys(document.switches).sort().map((key) => listing(key, document));
  return { channel, documentVersion: document.version, updatedAt: document.version ? document.updatedAt : null, switches };
}

export async function getSwitch(context: Pick<WorkflowContext, 'store'>, channel: string, key: string) {
  const { document } = await readChannelDocument(context.store, SWITCHES, channel);
  return { channel, documentVersion: document.version, ...listing(key, document) };
}

/** The channel's switch changes newest first; with a key, those that touched it. */
export async function switchHistory(context: Pick<WorkflowContext, 'store'>, channel: string, key?: string) {
  const entries = await readDocumentHistory<SwitchesDocument, SwitchHistoryEntry>(context.store, SWITCHES, channel);
  if (key !== undefined) {
    const { document } = await readChannelDocument(context.store, SWITCHES, channel);
    const touched = entries.filter((entry) => entry.keys?.includes(key));
    if (touched.length === 0 && !document.switches[key]) requireSwitch(document, key);
    return { channel, key, entries: touched };
  }
  return { channel, key: null, entries };
}

/**
 * What one device gets, read as a device reads it: createUpdater of
 * update-publish/client (size limit, signatures with trusted keys, validation,
 * expiry), whitelist shards for its id. The CLI remembers nothing between runs.
 */
export function resolveDeviceSwitches(source: UpdateSource, channel: string, device: DeviceFacts, publicKeys: TrustedKeys) {
  return createUpdater({ from: source, channel, trust: asTrusted(publicKeys), now: () => device.now ?? new Date() }).switches(device);
}
