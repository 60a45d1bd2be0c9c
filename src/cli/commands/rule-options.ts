import type { Command } from 'commander';

/** Release rule flags shared by publish and promote (validated by release/rules.ts). */
export function addRuleOptions(command: Command): Command {
  return command
    .option('--rules <preset>', 'start from a named rule preset in the config')
    .option('--platform <list>', 'platforms served, e.g. ios,android (default: all)')
    .option('--app-version <range>', "app versions served, a semver range, e.g. '>=2.0.0 <3'")
    .option('--rollout <percent>', 'share of devices served, 0–100 (default 100)')
    .option('--starts-at <iso>', 'serve from this ISO-8601 time with offset, e.g. 2026-12-01T00:00:00Z')
    .option('--ends-at <iso>', 'stop serving at this ISO-8601 time with offset')
    .option('--mandatory', 'devices must install this release')
    .option('--attr <k=v,…>', 'device attributes that must match exactly, e.g. region=eu,locale=de')
    .option('--whitelist <names>', 'whitelists whose devices get it even outside the rollout');
}
