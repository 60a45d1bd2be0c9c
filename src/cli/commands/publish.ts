import { relative } from 'node:path';
import type { Command } from 'commander';
import { assertKnownPackages } from '../../config/schema.js';
import { UserError } from '../../errors.js';
import { formatBytes, formatTable } from '../../format.js';
import { buildRules, describeRulesWithRollout, parseMessage, type RuleFlags } from '../../release/rules.js';
import { provenanceOf } from '../../workflows/provenance.js';
import { BUMPS, parseVersionFlag, type Bump } from '../../release/version.js';
import { publish, type PublishedPackage } from '../../workflows/publish.js';
import { withContext, type GlobalOptions } from '../context.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import { addMessageOption, addRuleOptions, givenRuleFlags } from '../rule-options.js';
import type { Session } from '../session.js';

interface PublishFlags extends GlobalOptions, RuleFlags {
  message?: string;
  channel?: string;
  version?: string;
  bump?: string;
  hooks: boolean;
  cache: boolean;
}

export function registerPublish(program: Command, session: Session): void {
  addMessageOption(addRuleOptions(
    program
      .command('publish [packages...]')
      .description('pack, diff, upload and release packages (all configured packages by default)')
      .option('--channel <name>', 'channel to release to (default: config channel, else production)')
      .option('--version <semver>', 'version for the new content (default: bump the highest version in the store)')
      .option('--bump <part>', `which part to bump: ${BUMPS.join('|')}`, 'patch')
      .option('--dry-run', 'show everything that would happen, write nothing')
      .option('-y, --yes', 'do not ask for confirmation')
      .option('--no-hooks', 'do not run post-release hooks')
      .option('--no-cache', 'hash every file again instead of trusting the hash cache (which is rebuilt)'),
  ))
    .addHelpText(
      'after',
      `
Examples:
  $ update-publish publish                          # every package, to the default channel
  $ update-publish publish maps --channel staging --rollout 10
  $ update-publish publish levels --version 2.0.0 --platform ios --app-version '>=3.1.0'
  $ update-publish publish --dry-run --json         # what would be written, for CI`,
    )
    .action(async (ids: string[], _flags, command: Command) => {
      const flags = command.optsWithGlobals<PublishFlags>();
      if (flags.bump && !BUMPS.includes(flags.bump as Bump)) {
        throw new UserError(`--bump '${flags.bump}' is not one of ${BUMPS.join(', ')}`);
      }
      if (flags.version !== undefined && command.getOptionValueSource('bump') === 'cli') {
        throw new UserError(`--version ${flags.version} and --bump ${flags.bump} both choose the version; give one`);
      }
      const version = flags.version === undefined ? undefined : parseVersionFlag(flags.version);
      const message = flags.message === undefined ? undefined : parseMessage(flags.message);
      await withContext(session, flags, async (context) => {
        const { config, output } = context;
        const channel = await context.channel(flags.channel);
        const rules = buildRules(flags, config.rules, config.platforms);
        const packageIds = assertKnownPackages(config, ids);
        // Dirty when the released folders or the config differ from the commit recorded.
        const released = [...packageIds.map((id) => config.packages[id]!.dir), ...(context.configPath ? [relative(context.configDir, context.configPath)] : [])];
        const outcome = await publish(context, {
          packageIds,
          channel,
          rules,
          version,
          bump: flags.bump as Bump,
          hooks: flags.hooks,
          provenance: await provenanceOf(message, context, released),
          useCache: flags.cache,
          rulesPreset: flags.rules,
        });
        // Rules travel with a new release; content already released keeps the rules it has.
        const unchanged = outcome.packages.filter((item) => item.status === 'unchanged').map((item) => item.id);
        const ruleFlags = givenRuleFlags(command);
        if (unchanged.length > 0 && ruleFlags.length > 0) {
          output.warn(
            `${unchanged.join(', ')}: content unchanged, so ${ruleFlags.join(', ')} changed nothing; use 'update-publish rollout', 'halt' or 'promote' to change a release's rules, 'update-publish edit' to change its targeting or notes`,
          );
        }
        noteHookFailures(session, outcome.hooks);
        output.result(
          { channel, dryRun: context.dryRun, packages: outcome.packages, uploaded: outcome.uploaded, hooks: outcome.hooks },
          () => renderPublish(outcome.packages, channel, context.dryRun),
        );
      });
    });
}

function renderPublish(packages: PublishedPackage[], channel: string, dryRun: boolean): string {
  const rows = packages.map((item) => [
    item.id,
    // A dry run published nothing: it says what it would do.
    dryRun && item.status === 'published' ? 'would publish' : item.status,
    item.version,
    item.previousVersion ?? '-',
    `+${item.changes.added} ~${item.changes.changed} -${item.changes.removed}`,
    formatBytes(item.full.size),
    item.deltas.map((delta) => `${delta.from}: ${formatBytes(delta.size)}`).join(', ') || '-',
    describeRulesWithRollout(item.rules),
  ]);
  const title = `${dryRunNote(dryRun)}channel ${channel}:`;
  return `${title}\n${formatTable(['package', 'status', 'version', 'previous', 'changes', 'full', 'deltas', 'rules'], rows)}`;
}
