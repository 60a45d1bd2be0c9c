import semver from 'semver';
import type { ReleaseRules, TargetingRules } from '../protocol/types.js';
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

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

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
  for (const pair of list(value)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UserError(`--attr '${pair}' is not key=value; use e.g. --attr region=eu,locale=de`);
    const name = pair.slice(0, equals).trim();
    // A device has one value per attribute: a second one is a typo, not a choice.
    if (Object.hasOwn(attributes, name)) throw new UserError(`--attr gives '${name}' twice; give each attribute once, e.g. --attr region=eu,locale=de`);
    attributes[name] = pair.slice(equals + 1).trim();
  }
  return attributes;
}

/** Targeting alone (switch variants): the rules without `mandatory`, which only releases have. */
export function targetingOf({ mandatory: _mandatory, ...targeting }: ReleaseRules): TargetingRules {
  return targeting;
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

  const appVersion = flags.appVersion ?? preset.appVersion;
  if (appVersion !== undefined && semver.validRange(appVersion) === null) {
    throw new UserError(`--app-version '${appVersion}' is not a valid semver range; use e.g. '>=2.0.0 <3'`);
  }
  const startsAt = flags.startsAt !== undefined ? parseDate('--starts-at', flags.startsAt) : preset.startsAt;
  const endsAt = flags.endsAt !== undefined ? parseDate('--ends-at', flags.endsAt) : preset.endsAt;
  if (startsAt && endsAt && new Date(endsAt) <= new Date(startsAt)) {
    throw new UserError(`--ends-at ${endsAt} is not after --starts-at ${startsAt}; swap or fix the dates`);
  }
  const platforms = (flags.platform !== undefined ? list(flags.platform) : preset.platforms)?.map(normalizePlatform);
  const whitelist = flags.whitelist !== undefined ? list(flags.whitelist) : preset.whitelist;
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
