import type { Command } from 'commander';
import type { ChannelIndex, Release } from '../../protocol/types.js';
import { describeProvenance, describeRules } from '../../release/rules.js';
import { readChannelsStatus, servingOf } from '../../workflows/status.js';
import { withContext, type GlobalOptions } from '../context.js';
import { formatBytes, formatTable } from '../../format.js';
import type { Session } from '../session.js';

interface StatusFlags extends GlobalOptions {
  channel?: string;
}

export function registerStatus(program: Command, session: Session): void {
  program
    .command('status')
    .description('show what each channel serves: versions, rules, rollout, state')
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .addHelpText('after', '\nExamples:\n  $ update-publish status\n  $ update-publish status --channel production --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<StatusFlags>();
      await withContext(session, flags, async (context) => {
        const { store, output } = context;
        const channel = flags.channel ? await context.knownChannel(flags.channel) : undefined;
        const { indexes, warnings, missing, now } = await readChannelsStatus(context, channel);
        for (const warning of warnings) output.warn(warning);
        const view = { now, missing };
        output.result({ store: store.location, channels: indexes.map((index) => statusOf(index, view)) }, () =>
          indexes.length ? indexes.map((index) => renderChannel(index, view)).join('\n\n') : `no channels in ${store.location} yet: run 'update-publish publish'`,
        );
      }, { configOptional: true });
    });
}

interface StatusView {
  now: Date;
  /** Whitelists a release names that the store lacks. */
  missing: (release: Release) => string[];
}

const statusOf = (index: ChannelIndex, view: StatusView) => ({
  channel: index.channel,
  updatedAt: index.updatedAt,
  version: index.version ?? 0,
  expires: index.expires ?? null,
  packages: Object.entries(index.packages).map(([id, { releases, bases }]) => ({
    id,
    latest: releases[0]?.version ?? null,
    bases: (bases ?? []).map((base) => ({ version: base.version, addedAt: base.addedAt })),
    releases: releases.map((release) => ({
      version: release.version,
      state: release.state,
      serving: servingOf(release, view.now),
      rollout: release.rules.rollout,
      mandatory: release.rules.mandatory,
      rules: release.rules,
      missingWhitelists: view.missing(release),
      releasedAt: release.releasedAt,
      size: release.full.size,
      deltas: release.deltas.map((delta) => delta.from),
      patchedDeltas: release.deltas.filter((delta) => delta.patched).map((delta) => delta.from),
      message: release.message ?? null,
      commit: release.commit ?? null,
    })),
  })),
});

function renderChannel(index: ChannelIndex, view: StatusView): string {
  const rows = Object.entries(index.packages).flatMap(([id, { releases, bases }]) => [
    ...releases.map((release, position) => {
      const missing = view.missing(release);
      return [
        position === 0 ? id : '',
        release.version,
        servingOf(release, view.now),
        `${release.rules.rollout}%`,
        `${describeRules(release.rules)}${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
        formatBytes(release.full.size),
        release.releasedAt.slice(0, 19).replace('T', ' '),
        describeProvenance(release),
      ];
    }),
    // Bases are never served: shown so a reader knows which versions deltas start from.
    ...(bases ?? []).map((base, position) => [
      position === 0 && releases.length === 0 ? id : '',
      base.version,
      'base',
      '-',
      'in the app binary (never served)',
      '-',
      base.addedAt.slice(0, 19).replace('T', ' '),
      '',
    ]),
  ]);
  return `channel ${index.channel}\n${formatTable(['package', 'version', 'state', 'rollout', 'rules', 'size', 'released', 'notes'], rows)}`;
}
