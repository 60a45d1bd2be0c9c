import type { Command } from 'commander';
import type { ChannelIndex, Release } from '../../protocol/types.js';
import { listWhitelists } from '../../channel/whitelists.js';
import { describeProvenance, describeRules } from '../../release/rules.js';
import { listChannels, readIndex, requireExistingChannel } from '../../channel/index-store.js';
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
        const indexes: ChannelIndex[] = [];
        // A named channel must exist: an empty one would show a made-up updatedAt.
        if (flags.channel) indexes.push((await requireExistingChannel(store, await context.knownChannel(flags.channel), context.configuredChannels)).index);
        else for (const channel of await listChannels(store)) indexes.push((await readIndex(store, channel)).index);
        for (const warning of expiryWarnings(indexes, new Date())) output.warn(warning);
        // A list a release names but the store lacks: its devices get the release only through the rollout.
        const named = new Set(indexes.flatMap((index) => Object.values(index.packages).flatMap(({ releases }) => releases.flatMap((release) => release.rules.whitelist ?? []))));
        const stored = named.size ? new Set((await listWhitelists(store)).map((meta) => meta.name)) : new Set<string>();
        const missing = (release: Release) => (release.rules.whitelist ?? []).filter((name) => !stored.has(name));
        for (const index of indexes) {
          for (const [id, { releases }] of Object.entries(index.packages)) {
            for (const release of releases.filter((candidate) => missing(candidate).length)) {
              output.warn(`${id}@${release.version} on ${index.channel} names whitelist ${missing(release).map((name) => `'${name}'`).join(', ')}, which is not in the store: nobody is in it; upload it again or 'update-publish edit' the release`);
            }
          }
        }
        const view = { now: new Date(), missing };
        output.result({ store: store.location, channels: indexes.map((index) => statusOf(index, view)) }, () =>
          indexes.length ? indexes.map((index) => renderChannel(index, view)).join('\n\n') : `no channels in ${store.location} yet: run 'update-publish publish'`,
        );
      }, { configOptional: true });
    });
}

/** Devices refuse an expired index: say so a week ahead. */
const EXPIRY_WARNING_MS = 7 * 86_400_000;

function expiryWarnings(indexes: ChannelIndex[], now: Date): string[] {
  return indexes.flatMap((index) => {
    if (index.expires === undefined) return [];
    const left = Date.parse(index.expires) - now.getTime();
    if (left > EXPIRY_WARNING_MS) return [];
    const when = left <= 0 ? `expired at ${index.expires}: devices refuse it` : `expires at ${index.expires} (in ${Math.ceil(left / 3_600_000)} h)`;
    return [`channel '${index.channel}' index ${when}; run 'update-publish refresh --channel ${index.channel}' (and schedule it)`];
  });
}

interface StatusView {
  now: Date;
  /** Whitelists a release names that the store lacks. */
  missing: (release: Release) => string[];
}

/**
 * What devices get from a release now: its state, except that an active
 * release outside its time window is 'scheduled' (not yet) or 'ended'.
 */
function servingOf(release: Release, now: Date): string {
  if (release.state !== 'active') return release.state;
  if (release.rules.startsAt && new Date(release.rules.startsAt) > now) return 'scheduled';
  if (release.rules.endsAt && new Date(release.rules.endsAt) <= now) return 'ended';
  return 'active';
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
