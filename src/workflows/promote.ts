import { storeSource } from '../client/fetch/source.js';
import { readReleaseManifest } from '../client/fetch/documents.js';
import { packageReleases } from '../channel/archive.js';
import { requireExistingChannel } from '../channel/index-store.js';
import { assertWhitelistsExist } from '../channel/whitelists.js';
import { provenanceDetails } from '../channel/history.js';
import type { HookResult } from '../hooks/run-hooks.js';
import type { Release, ReleaseRules } from '../protocol/types.js';
import { promote, withDeltas } from '../release/operations.js';
import { buildTargetDeltas, targetDeltaBases } from './promote-deltas.js';
import { describeRulesWithRollout } from '../release/rules.js';
import { writeReleaseChange } from './change-release.js';
import type { WorkflowContext } from './context.js';
import type { Provenance } from './provenance.js';

export interface PromoteRequest {
  packageId: string;
  /** Default: the source's newest active release. */
  version?: string;
  from: string;
  to: string;
  rules: ReleaseRules;
  hooks: boolean;
  /** Notes for the promoted release (default: the source's), and the commit the promotion ran in (history). */
  provenance?: Provenance;
}

export interface PromoteResult {
  from: string;
  to: string;
  package: string;
  version: string;
  rules: ReleaseRules;
  /** The promoted release's notes (null without). */
  message: string | null;
  /** The commit the promotion ran in, as its history entry records it (null outside git). */
  commit: string | null;
  /** Versions devices on the target get a delta from: the release's own, and those built for the target's versions. */
  deltasFrom: string[];
  dryRun: boolean;
  hooks: HookResult[];
  /** The release as written on the target channel. */
  release: Release;
}

/**
 * The same stored bytes as a new release on another channel, with the rules
 * given. Only deltas from the versions the target channel's devices hold are
 * built and uploaded (after the confirmation, before the index write).
 */
export async function promoteRelease(context: WorkflowContext, request: PromoteRequest): Promise<PromoteResult> {
  const { store, config } = context;
  const { packageId, from, to, rules } = request;
  await assertWhitelistsExist(store, rules.whitelist);
  const { index: fromIndex } = await requireExistingChannel(store, from);
  // An older version may have left the source's index for its archive: it is still that channel's release.
  const source = { ...fromIndex, packages: { ...fromIndex.packages, [packageId]: { releases: await packageReleases(store, fromIndex, packageId) } } };
  const { change, checked: bases, hooks } = await writeReleaseChange(context, {
    channel: to,
    packageId,
    mayCreateChannel: true,
    apply: (target, built: Release['deltas'] | undefined) =>
      withDeltas(promote(source, target, packageId, request.version, rules, new Date(), request.provenance?.message), packageId, built ?? []),
    // Devices on the target channel will read this manifest: one that is not what the index lists stays where it is.
    check: async ({ release, index }) => {
      // Promoting what the source stopped serving is allowed (a fix may be on the way there), never silent.
      const onSource = source.packages[packageId]?.releases.find((candidate) => candidate.version === release.version);
      if (onSource?.state === 'rolled-back' || onSource?.state === 'halted') {
        context.output.warn(
          `${packageId} ${release.version} was ${onSource.state === 'halted' ? 'halted' : 'rolled back'} on '${from}' (${onSource.state === 'halted' ? 'served to nobody there' : 'its devices were sent back from it'}); it is promoted to '${to}' all the same`,
        );
      }
      await readReleaseManifest(storeSource(store), packageId, release);
      return targetDeltaBases(release, index.packages[packageId]?.releases ?? [], config.deltas);
    },
    prepare: async ({ release }, bases) => (bases.length && !context.dryRun ? buildTargetDeltas(context, packageId, release, bases) : []),
    hooks: request.hooks,
    question: ({ release }, bases) =>
      `Promote ${packageId} ${release.version} from '${from}' to '${to}' (${describeRulesWithRollout(release.rules)})${
        bases.length ? `, with deltas from ${bases.join(', ')}` : ''
      }?`,
    history: ({ release }) => ({ action: 'promote', version: release.version, from, to, details: { rules, ...provenanceDetails(request.provenance ?? {}) } }),
    event: ({ release, previousVersion }) => ({ name: 'promote', release, previousVersion }),
  });
  const { message = null } = change.release;
  // The commit the history entry records: where the promotion ran (the release keeps its content's).
  const commit = request.provenance?.commit ?? null;
  // In a dry run the deltas the target would get are the bases planned.
  const deltasFrom = [...change.release.deltas.map((delta) => delta.from), ...(context.dryRun ? bases : [])];
  return { from, to, package: packageId, version: change.release.version, rules, message, commit, deltasFrom, dryRun: context.dryRun, hooks, release: change.release };
}
