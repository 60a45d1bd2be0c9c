import semver from 'semver';
import type { ReleaseRules } from '../protocol/types.js';
import type { RulesConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { isRollout, normalizePlatform, percentText, timeProblem } from '../protocol/rule-values.js';
import { basisPointsOf } from '../protocol/rollout.js';

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
  if (rules.endsAt && new Date(rules.endsAt) <= now) {
    throw new UserError(`--ends-at ${rules.endsAt} is in the past: the release would never be served; give a later time, or leave the flag out`);
  }
}

/** Preset (if named) overlaid with flags, validated into the rules stored in the index. */
export function buildRules(flags: RuleFlags, presets: Record<string, RulesConfig>): ReleaseRules {
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

  const appVersion = flags.appVersion !== undefined ? parseAppVersionRange(flags.appVersion) : preset.appVersion;
  const startsAt = flags.startsAt !== undefined ? parseDate('--starts-at', flags.startsAt) : preset.startsAt;
  const endsAt = flags.endsAt !== undefined ? parseDate('--ends-at', flags.endsAt) : preset.endsAt;
  if (startsAt && endsAt && new Date(endsAt) <= new Date(startsAt)) {
    throw new UserError(`--ends-at ${endsAt} is not after --starts-at ${startsAt}; swap or fix the dates`);
  }
  const platforms = flags.platform !== undefined ? listOf('--platform', normalizePlatform(flags.platform), 'ios,android') : preset.platforms?.map(normalizePlatform);
  const whitelist = flags.whitelist !== undefined ? listOf('--whitelist', flags.whitelist, 'qa,beta') : preset.whitelist;
  const attributes = flags.attr !== undefined ? parseAttributes(flags.attr) : preset.attributes;

  const rollout = parseRollout(flags.rollout ?? preset.rollout ?? 100);
  const rules: ReleaseRules = { ...withRollout(rollout), mandatory: flags.mandatory ?? preset.mandatory ?? false };
  if (platforms?.length) rules.platforms = platforms;
  if (appVersion !== undefined) rules.appVersion = appVersion;
  if (startsAt) rules.startsAt = startsAt;
  if (endsAt) rules.endsAt = endsAt;
  if (whitelist?.length) rules.whitelist = whitelist;
  if (attributes && Object.keys(attributes).length) rules.attributes = attributes;
  return rules;
}

/** Rules in one line for people (rollout apart): `platforms ios; app >=2; mandatory`, or `-`. */
export function describeRules(rules: ReleaseRules): string {
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
