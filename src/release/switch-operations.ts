import { UserError } from '../errors.js';
import { DocumentJsonError, parseDocumentJson } from '../protocol/document-json.js';
import { closestName } from '../suggest.js';
import {
  SWITCH_KEY_PATTERN,
  SWITCH_TYPES,
  switchTypeOf,
  type JsonValue,
  type Switch,
  type SwitchesDocument,
  type SwitchType,
  type SwitchVariant,
} from '../protocol/switches.js';
import type { TargetingRules } from '../protocol/types.js';

/**
 * Switch edits as pure functions of a switches document: each returns the
 * new document (and what changed) or throws a UserError, never touching the
 * store. The channel layer stamps the document's version and re-applies them
 * to the fresh document on every write attempt.
 */

/** A value as people type it, shortened for a one-line message. */
const shown = (text: string) => (text.length > 40 ? `${text.slice(0, 37)}…` : text);

/** Levels of arrays and objects a value may have: the document around it adds up to 6 of the 256 every reader accepts (PROTOCOL.md §19.2). */
export const MAX_SWITCH_VALUE_DEPTH = 64;

/**
 * `<value>` on the command line is JSON: true, 42, "blue", {"max":3}. Checked
 * as every reader will read it before anything is written: a value devices or
 * later commands could not read back (1e400 stored as null, a lone surrogate,
 * nesting too deep, an integer a double cannot hold) is refused here.
 */
export function parseSwitchValue(text: string): JsonValue {
  try {
    JSON.parse(text);
  } catch {
    throw new UserError(`value '${shown(text)}' is not JSON; give e.g. true, 42, '"blue"' (a string in double quotes) or '{"max":3}'`);
  }
  let value: JsonValue;
  try {
    value = parseDocumentJson(text) as JsonValue;
  } catch (error) {
    if (!(error instanceof DocumentJsonError)) throw error;
    throw new UserError(`value '${shown(text)}' cannot be stored: ${error.reason.replace(/ at offset \d+$/, '')}; devices read switches as strict JSON (PROTOCOL.md §19.2)`);
  }
  const problem = valueProblem(value, 1);
  if (problem) throw new UserError(`value '${shown(text)}' cannot be stored: ${problem}`);
  return value;
}

function valueProblem(value: JsonValue, depth: number): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return `${shown(String(value))} is an integer beyond 2^53, which devices read rounded; store it as a string ("…")`;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_SWITCH_VALUE_DEPTH) return `it nests arrays and objects deeper than ${MAX_SWITCH_VALUE_DEPTH} levels`;
  for (const item of Object.values(value)) {
    const problem = valueProblem(item as JsonValue, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

export function parseSwitchType(text: string): SwitchType {
  if (!(SWITCH_TYPES as readonly string[]).includes(text)) throw new UserError(`--type '${text}' is not one of ${SWITCH_TYPES.join(', ')}`);
  return text as SwitchType;
}

export function requireSwitchKey(key: string): string {
  if (!SWITCH_KEY_PATTERN.test(key)) {
    throw new UserError(`switch key '${shown(key)}' is not valid; use letters, digits, '.', '_' or '-' (up to 128), starting with a letter, e.g. newCheckout`);
  }
  return key;
}

/** The key's entry, or a usage error naming the keys there are. */
export function requireSwitch(document: SwitchesDocument, key: string): Switch {
  const entry = document.switches[key];
  if (!entry) {
    const known = Object.keys(document.switches).sort();
    throw new UserError(
      `unknown switch '${shown(key)}' on channel '${document.channel}'; ${known.length ? `switches: ${known.join(', ')}` : "none yet: set one with 'update-publish switch set <key> <value>'"}`,
    );
  }
  return entry;
}

/**
 * A variant is known by its conditions (who), not its rollout (how many):
 * setting the same conditions again changes the value and the rollout in
 * place. Key order, and the order of listed platforms or whitelists, do not matter.
 */
function conditionsOf({ rollout: _rollout, rolloutBasisPoints: _basisPoints, ...conditions }: TargetingRules): string {
  const sorted = Object.entries(conditions)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]): [string, unknown] => [name, Array.isArray(value) ? [...value].sort() : value && typeof value === 'object' ? Object.entries(value).sort() : value])
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(sorted);
}

const sameValue = (a: JsonValue, b: JsonValue) => JSON.stringify(a) === JSON.stringify(b);

export interface SwitchSet {
  document: SwitchesDocument;
  key: string;
  /** The variant set, numbered from 1; null for the default. */
  variant: number | null;
  value: JsonValue;
  /** The variant's rules as set; null for the default. */
  rules: TargetingRules | null;
  /** The value it replaced; null when there was none (a new key or variant). */
  previous: JsonValue | null;
  /** The rules it replaced (the same conditions, maybe another rollout); null when there were none. */
  previousRules: TargetingRules | null;
  /** Why nothing changes, when the key already is as asked (the command succeeds: exit 0). */
  unchanged?: string;
}

function checkType(key: string, entry: Switch | undefined, value: JsonValue, type: SwitchType | undefined): SwitchType | undefined {
  const fixed = entry ? entry.type : type;
  if (entry && type !== undefined && type !== entry.type) {
    throw new UserError(
      `switch '${key}' is ${entry.type ? `of type ${entry.type}` : 'untyped'} since its first set; its type cannot change: remove it ('update-publish switch rm ${key}') and set it again`,
    );
  }
  if (fixed !== undefined && switchTypeOf(value) !== fixed) {
    throw new UserError(`value ${shown(JSON.stringify(value))} is ${switchTypeOf(value) === 'json' ? 'an object, array or null' : `a ${switchTypeOf(value)}`}, but switch '${key}' is of type ${fixed}`);
  }
  return fixed;
}

/**
 * Without rules, the key's default (creating the key); with rules, the variant
 * with the same conditions (its value and rollout replaced in place), else a
 * new last variant.
 */
export function setSwitch(
  document: SwitchesDocument,
  key: string,
  value: JsonValue,
  options: { rules?: TargetingRules; type?: SwitchType; isNew?: boolean } = {},
): SwitchSet {
  requireSwitchKey(key);
  const entry = document.switches[key];
  assertNewKeyMeant(document, key, options.isNew);
  const type = checkType(key, entry, value, options.type);
  const withEntry = (next: Switch) => ({ ...document, switches: { ...document.switches, [key]: next } });
  const unchanged = `switch '${key}' on channel '${document.channel}' is already ${shown(JSON.stringify(value))} there; nothing to change`;

  if (!options.rules) {
    if (entry && sameValue(entry.default, value)) return { document, key, variant: null, value, rules: null, previous: value, previousRules: null, unchanged };
    const next: Switch = entry ? { ...entry, default: value } : { ...(type && { type }), default: value, variants: [] };
    return { document: withEntry(next), key, variant: null, value, rules: null, previous: entry ? entry.default : null, previousRules: null };
  }
  if (!entry) {
    throw new UserError(`switch '${key}' has no default value yet; set one first: update-publish switch set ${key} <value>`);
  }
  const rules = options.rules;
  const index = entry.variants.findIndex((variant) => conditionsOf(variant.rules) === conditionsOf(rules));
  const existing = index === -1 ? undefined : entry.variants[index];
  if (existing && sameValue(existing.value, value) && existing.rules.rollout === rules.rollout) {
    return { document, key, variant: index + 1, value, rules, previous: value, previousRules: existing.rules, unchanged };
  }
  const variant: SwitchVariant = { value, rules };
  const variants = existing ? entry.variants.map((other, at) => (at === index ? variant : other)) : [...entry.variants, variant];
  return {
    document: withEntry({ ...entry, variants }),
    key,
    variant: (existing ? index : variants.length - 1) + 1,
    value,
    rules,
    previous: existing ? existing.value : null,
    previousRules: existing ? existing.rules : null,
  };
}

export interface SwitchRemoval {
  document: SwitchesDocument;
  key: string;
  /** The variant removed (numbered from 1); null when the whole key went. */
  variant: number | null;
  removed: Switch | SwitchVariant;
}

/** Removes a key, or one of its variants (numbered from 1, as `switch get` shows them). */
export function removeSwitch(document: SwitchesDocument, key: string, variant?: number): SwitchRemoval {
  const entry = requireSwitch(document, key);
  if (variant === undefined) {
    const { [key]: removed, ...switches } = document.switches;
    return { document: { ...document, switches }, key, variant: null, removed };
  }
  const count = entry.variants.length;
  if (!Number.isInteger(variant) || variant < 1 || variant > count) {
    throw new UserError(`switch '${key}' has ${count === 1 ? 'variant 1 only' : count ? `variants 1–${count}` : 'no variants'}; --variant ${variant} is not one of them (see 'update-publish switch get ${key}')`);
  }
  const variants = entry.variants.filter((_, at) => at !== variant - 1);
  return { document: { ...document, switches: { ...document.switches, [key]: { ...entry, variants } } }, key, variant, removed: entry.variants[variant - 1] };
}

/** The switches of an earlier version, as the next version of the document. */
export function restoreSwitches(document: SwitchesDocument, earlier: SwitchesDocument): SwitchesDocument {
  return { ...document, switches: earlier.switches };
}

/**
 * A key that is new on the channel but within a typo of an existing one (`newcheckout` beside
 * `newCheckout`) is refused unless the caller says it is new (`--new`): devices would read the
 * old key and never see the value. `--new` on a key that exists is refused too.
 */
function assertNewKeyMeant(document: SwitchesDocument, key: string, isNew: boolean | undefined): void {
  const keys = Object.keys(document.switches);
  if (keys.includes(key)) {
    if (isNew) throw new UserError(`switch '${key}' already exists on channel '${document.channel}'; drop --new to change it`);
    return;
  }
  if (isNew) return;
  const near = keys.find((other) => other.toLowerCase() === key.toLowerCase()) ?? closestName(key, keys);
  if (near) {
    throw new UserError(
      `switch '${key}' is not on channel '${document.channel}'; did you mean '${near}'? To add '${key}' as a new key beside it, pass --new`,
    );
  }
}
