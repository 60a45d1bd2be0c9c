import type { Command } from 'commander';

/**
 * Rule flags shared by publish, promote, edit, `switch set` and `app-release add`
 * (validated by release/rules.ts); `omit` leaves out flags a command has no
 * use for or gives another meaning (e.g. ['--mandatory']).
 */
export function addRuleOptions(command: Command, omit: readonly string[] = []): Command {
  for (const [flags, description] of RULE_OPTIONS) if (!omit.includes(flags.split(' ')[0])) command.option(flags, description);
  return command;
}

/** Release notes on publish, promote and edit (app-release add has a --message of its own: the notice's text). */
export function addMessageOption(command: Command): Command {
  return command.option('--message <text>', 'release notes, stored with the release (the git commit is recorded too, inside a git work tree)');
}

/** The rule flags given on the command line, as typed (for saying which ones had no effect). */
export const givenRuleFlags = (command: Command): string[] =>
  command.options.filter((option) => RULE_FLAG_NAMES.has(option.long!) && command.getOptionValueSource(option.attributeName()) === 'cli').map((option) => option.long!);

const RULE_OPTIONS: [string, string][] = [
  ['--rules <preset>', 'start from a named rule preset in the config'],
  ['--platform <list>', 'platforms served, e.g. ios,android (default: all)'],
  ['--app-version <range>', "app versions served, a semver range, e.g. '>=2.0.0 <3'"],
  ['--rollout <percent>', 'share of devices served, 0–100 (default 100)'],
  ['--starts-at <iso>', 'serve from this ISO-8601 time with offset, e.g. 2026-12-01T00:00:00Z'],
  ['--ends-at <iso>', 'stop serving at this ISO-8601 time with offset'],
  ['--mandatory', 'devices must install this release'],
  ['--attr <k=v,…>', 'device attributes that must match exactly, e.g. region=eu,locale=de'],
  ['--whitelist <names>', 'whitelists whose devices get it even outside the rollout'],
];
// --message too: content already released keeps its notes as well.
const RULE_FLAG_NAMES = new Set([...RULE_OPTIONS.map(([flags]) => flags.split(' ')[0]), '--message']);
