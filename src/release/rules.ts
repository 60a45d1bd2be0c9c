import { windowClosed } from '../protocol/serving-window.js';
import semver from 'semver';
import type { ReleaseRules, TargetingRules } from '../protocol/types.js';
import type { RulesConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { isRollout, normalizePlatform, percentText, timeProblem } from '../protocol/rule-values.js';
import { basisPointsOf } from '../protocol/rollout.js';
import { controlCharacterIn, escapeControls } from '../format.js';
import { assertKnownPlatforms } from './platforms.js';

/** Rule flags as commander hands them over (strings until validated here). */
export interface RuleFlags {
  rules?: string;
  platform?: string;
  appVersion?: string;
  rollout?: string;
  startsAt?: string;
  endsAt?: string;
  mandatory?: boolean;
  attr?: string;
  whitelist?: string;
}

/**
 * A comma-separated flag as a list. Empty (`--platform ''`) would be no rule
 * at all, serving everyone; a name twice is a typo: both are refused.
 */
function listOf(flag: string, value: string, example: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UserError(`${flag} '${value}' names nothing, which would mean no such rule at all; leave the flag out, or give e.g. ${flag} ${example}`);
  const twice = items.find((item, index) => items.indexOf(item) !== index);
  if (twice !== undefined) throw new UserError(`${flag} gives '${twice}' twice; give each once, e.g. ${flag} ${example}`);
  return items;
}

/** The rollout fields of rules: the percentage, and the integer threshold devices use, fixed together. */
export const withRollout = (rollout: number) => ({ rollout, rolloutBasisPoints: basisPointsOf(rollout) });

export function parseRollout(value: string | number): number {
  if (!isRollout(value)) {
    throw new UserError(`rollout '${value}' is outside 0–100 or not a plain number with at most two decimals; give e.g. 10 or 12.5`);
  }
  return Number(percentText(value));
}

/** An ISO-8601 time from a flag, as ISO-8601 UTC; a day the calendar lacks is refused, not rolled over. */
export function parseDate(flag: string, value: string): string {
  const problem = timeProblem(value);
  if (problem) throw new UserError(`${flag} '${value}' ${problem}`);
  return new Date(value).toISOString();
}

export function parseAttributes(value: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pairs = value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean);
  if (pairs.length === 0) throw new UserError(`--attr '${value}' names no attribute; leave the flag out, or give e.g. --attr region=eu,locale=de`);
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UserError(`--attr '${pair}' is not key=value; use e.g. --attr region=eu,locale=de`);
    const name = pair.slice(0, equals).trim();
    // A device has one value per attribute: a second one is a typo, not a choice.
    if (Object.hasOwn(attributes, name)) throw new UserError(`--attr gives '${name}' twice; give each attribute once, e.g. --attr region=eu,locale=de`);
    const attributeValue = pair.slice(equals + 1).trim();
    if (!attributeValue) throw new UserError(`--attr '${pair}' has no value; give one, e.g. --attr ${name}=eu`);
    attributes[name] = attributeValue;
  }
  return attributes;
}

/** Targeting alone (switch variants): the rules without `mandatory`, which only releases have. */
export function targetingOf({ mandatory: _mandatory, ...targeting }: ReleaseRules): TargetingRules {
  return targeting;
}

/** An --app-version range: an empty one would match every app version. */
export function parseAppVersionRange(value: string): string {
  if (value.trim() === '') throw new UserError(`--app-version '' matches every app version; leave the flag out for that, or give a range, e.g. '>=2.0.0 <3'`);
  if (semver.validRange(value) === null) throw new UserError(`--app-version '${value}' is not a valid semver range; use e.g. '>=2.0.0 <3'`);
  return value;
}

/**
 * A new release (publish, promote) whose window has already closed would be
 * served to nobody: refused, as no one means that.
 */
export function assertStillServable(rules: ReleaseRules, now = new Date()): void {
  if (windowClosed(rules, now)) {
    throw new UserError(`--ends-at ${rules.endsAt} is in the past: the release would never be served; give a later time, or leave the flag out`);
  }
}

/** The targeting flags given (rollout apart), each checked: what they set, nothing for a flag left out. */
export function parseRulePatch(flags: Omit<RuleFlags, 'rules' | 'rollout'>): Partial<ReleaseRules> {
  const patch: Partial<ReleaseRules> = {};
  if (flags.platform !== undefined) patch.platforms = listOf('--platform', normalizePlatform(flags.platform), 'ios,android');
  if (flags.appVersion !== undefined) patch.appVersion = parseAppVersionRange(flags.appVersion);
  if (flags.startsAt !== undefined) patch.startsAt = parseDate('--starts-at', flags.startsAt);
  if (flags.endsAt !== undefined) patch.endsAt = parseDate('--ends-at', flags.endsAt);
  if (flags.mandatory !== undefined) patch.mandatory = flags.mandatory;
  if (flags.whitelist !== undefined) patch.whitelist = listOf('--whitelist', flags.whitelist, 'qa,beta');
  if (flags.attr !== undefined) patch.attributes = parseAttributes(flags.attr);
  return patch;
}

/** Rules whose window closes before it opens are refused, however they were put together. */
export function assertWindowOpens(rules: Pick<ReleaseRules, 'startsAt' | 'endsAt'>): void {
  if (rules.startsAt && rules.endsAt && new Date(rules.endsAt) <= new Date(rules.startsAt)) {
    throw new UserError(`--ends-at ${rules.endsAt} is not after --starts-at ${rules.startsAt}; swap or fix the dates`);
  }
}

/** Preset (if named) overlaid with flags, validated into the rules stored in the index; platforms outside the known ones and `configuredPlatforms` are refused. */
export function buildRules(flags: RuleFlags, presets: Record<string, RulesConfig>, configuredPlatforms: readonly string[] = []): ReleaseRules {
  let preset: RulesConfig = {};
  if (flags.rules !== undefined) {
    if (!presets[flags.rules]) {
      const known = Object.keys(presets);
      throw new UserError(
        `unknown rule preset '${flags.rules}'; ${known.length ? `use one of: ${known.join(', ')}` : 'define it under "rules" in the config'}`,
      );
    }
    preset = presets[flags.rules];
  }
  // The preset's rolloutPolicy is for rollout tick, not a rule devices read.
  const { rollout: presetRollout, rolloutPolicy: _policy, ...presetTargeting } = preset;
  const merged = { ...presetTargeting, platforms: presetTargeting.platforms?.map(normalizePlatform), ...parseRulePatch(flags) };
  assertWindowOpens(merged);
  assertKnownPlatforms(merged.platforms, configuredPlatforms);
  return orderedRules({ ...merged, rollout: parseRollout(flags.rollout ?? presetRollout ?? 100), mandatory: merged.mandatory ?? false });
}

/** Rules with their fields in one order and empty ones left out: what the index stores. */
export function orderedRules(merged: ReleaseRules): ReleaseRules {
  const rules: ReleaseRules = { ...withRollout(merged.rollout), mandatory: merged.mandatory };
  if (merged.platforms?.length) rules.platforms = merged.platforms;
  if (merged.appVersion !== undefined) rules.appVersion = merged.appVersion;
  if (merged.startsAt) rules.startsAt = merged.startsAt;
  if (merged.endsAt) rules.endsAt = merged.endsAt;
  if (merged.whitelist?.length) rules.whitelist = merged.whitelist;
  if (merged.attributes && Object.keys(merged.attributes).length) rules.attributes = merged.attributes;
  return rules;
}

/** Release notes as `--message` gives them: not empty, and short enough to travel in the index devices read. */
export const MAX_MESSAGE_LENGTH = 2000;
export function parseMessage(value: string): string {
  const message = value.trim();
  if (!message) throw new UserError(`--message is empty; give the release notes, or leave the flag out`);
  if (message.length > MAX_MESSAGE_LENGTH) throw new UserError(`--message is ${message.length} characters; keep release notes under ${MAX_MESSAGE_LENGTH} (devices download them with the index)`);
  const control = controlCharacterIn(message);
  // An escape sequence in release notes would retitle or recolour the terminal of whoever reads status or history.
  if (control) throw new UserError(`--message holds the control character ${control}; give plain text (newlines and tabs are fine)`);
  return message;
}

/** Rules in one line for people (rollout apart): `platforms ios; app >=2; mandatory`, or `-`. */
export function describeRules(rules: TargetingRules & { mandatory?: boolean }): string {
  return [
    rules.platforms && `platforms ${rules.platforms.join(',')}`,
    rules.appVersion && `app ${rules.appVersion}`,
    rules.startsAt && `from ${rules.startsAt}`,
    rules.endsAt && `until ${rules.endsAt}`,
    rules.whitelist && `whitelist ${rules.whitelist.join(',')}`,
    rules.attributes && Object.entries(rules.attributes).map(([name, value]) => `${name}=${value}`).join(','),
    rules.mandatory && 'mandatory',
  ]
    .filter(Boolean)
    .join('; ') || '-';
}

/** The rollout and the other rules in one line: `rollout 10%; platforms ios`, or `rollout 100%`. */
export const describeRollout = (rules: TargetingRules & { mandatory?: boolean }): string =>
  [`rollout ${rules.rollout}%`, describeRules(rules)].filter((part) => part !== '-').join('; ');

/**
 * What an edit changes, in one line: the rules before and after when they differ, the new notes
 * when they differ (`rollout 100% → rollout 100%; platforms ios; notes "New tiles"`), never a bare `- → -`.
 */
export function describeRulesChange(
  before: { rules: TargetingRules & { mandatory?: boolean }; message?: string | null },
  after: { rules: TargetingRules & { mandatory?: boolean }; message?: string | null },
): string {
  const rulesBefore = describeRollout(before.rules);
  const rulesAfter = describeRollout(after.rules);
  const notes = (after.message ?? null) !== (before.message ?? null) ? (after.message ? `notes "${after.message}"` : 'notes removed') : '';
  const rules = rulesBefore !== rulesAfter ? `${rulesBefore} → ${rulesAfter}` : notes ? '' : `${rulesAfter} (unchanged)`;
  return [rules, notes].filter(Boolean).join('; ');
}

/** Every rule in one line, the rollout first (the same line as describeRollout). */
export const describeRulesWithRollout = (rules: ReleaseRules): string => describeRollout(rules);

/** Notes shown in a table: the first line, cut short, and the commit's first 7 characters; '' without either. */
export function describeProvenance({ message, commit }: { message?: string; commit?: string }): string {
  const firstLine = message?.split('\n')[0];
  const notes = firstLine && firstLine.length > 50 ? `${firstLine.slice(0, 49)}…` : firstLine;
  return escapeControls([notes, commit && `(${commit.slice(0, 7)})`].filter(Boolean).join(' '));
}
