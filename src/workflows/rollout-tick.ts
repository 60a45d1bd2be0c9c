import { readHistory } from '../channel/history.js';
import { requireExistingChannel } from '../channel/index-store.js';
import type { Config, RolloutPolicy } from '../config/schema.js';
import { ExitCode, UserError } from '../errors.js';
import { currentRelease } from '../protocol/channel-index.js';
import type { RolloutEvidence } from '../protocol/release-event.js';
import type { Release } from '../protocol/types.js';
import { halt, setRollout } from '../release/operations.js';
import { decideTick, type TickDecision } from '../release/rollout-policy.js';
import { changeCurrentRelease } from './change-release.js';
import type { WorkflowContext } from './context.js';
import { readHealth } from './health.js';

export interface TickRequest {
  channel: string;
  /** Only these packages; none: every package of the channel that has a policy. */
  packageIds: string[];
  /** --receipts; else config receipts.source. */
  source?: string;
  /** Stands in for the clock everywhere (`--now`): the window read, the bake, the recorded times. */
  now: Date;
  hooks: boolean;
}

export interface TickDecisionRecord {
  package: string;
  version: string;
  channel: string;
  decision: TickDecision;
  from: number;
  to: number;
  reason: string;
  evidence: RolloutEvidence;
}

/**
 * The policy of a release: that of the rule preset it was published with
 * (recorded in its publish history entry), else its package's, else the
 * config's top-level one.
 */
export const rolloutPolicyOf = (config: Config, packageId: string, rulesPreset?: string): RolloutPolicy | undefined =>
  (rulesPreset !== undefined ? config.rules[rulesPreset]?.rolloutPolicy : undefined) ?? config.packages[packageId]?.rolloutPolicy ?? config.rolloutPolicy;

/** History actions after which a release is at a new stage (or served again). */
const STAGE_ACTIONS = new Set(['publish', 'promote', 'rollout', 'resume']);

/** What the release's history says: the preset it was published with, and when its current stage began (else its release time). */
async function releaseHistory(context: WorkflowContext, channel: string, packageId: string, release: Release, releases: Release[]) {
  const history = (await readHistory(context.store, channel, packageId, releases)).filter((entry) => entry.version === release.version);
  const stage = history.find((entry) => STAGE_ACTIONS.has(entry.action));
  const published = history.find((entry) => entry.action === 'publish');
  const preset = published?.details.rulesPreset;
  return { stageStartedAt: new Date(stage?.at ?? release.releasedAt), rulesPreset: typeof preset === 'string' ? preset : undefined };
}

/**
 * `rollout tick`: for each package whose served release is rolling out
 * (active, below 100 %) and has a policy, decide from its receipts whether to
 * advance, hold or halt, and carry it out through the same change as
 * `rollout` and `halt` (conditional write, history, hooks), marked automatic.
 */
export async function rolloutTick(context: WorkflowContext, request: TickRequest): Promise<{ decisions: TickDecisionRecord[]; dryRun: boolean }> {
  const { channel, now } = request;
  const { index } = await requireExistingChannel(context.store, channel);
  const named = request.packageIds;
  const ids = named.length ? named : Object.keys(index.packages);
  let anyPolicy = false;
  const rolling = [];
  for (const id of ids) {
    const releases = index.packages[id]?.releases ?? [];
    const release = currentRelease(releases);
    if (named.includes(id) && !release) throw new UserError(`package '${id}' has no release served on channel '${channel}'`, ExitCode.usage);
    if (!release) continue;
    const { stageStartedAt, rulesPreset } = await releaseHistory(context, channel, id, release, releases);
    const policy = rolloutPolicyOf(context.config, id, rulesPreset);
    if (!policy) {
      if (named.includes(id)) {
        throw new UserError(`package '${id}' has no rolloutPolicy; set rolloutPolicy in the config (top level, packages.${id}.rolloutPolicy, or in the rule preset it is published with)`, ExitCode.usage);
      }
      continue;
    }
    anyPolicy = true;
    if (release.state !== 'active' || release.rules.rollout >= 100) {
      context.output.info(`${id} ${release.version} on '${channel}' is not rolling out (${release.state}, rollout ${release.rules.rollout} %): nothing to decide`);
      continue;
    }
    rolling.push({ id, release, policy, stageStartedAt });
  }
  if (!anyPolicy) {
    throw new UserError(`no rolloutPolicy applies on channel '${channel}'; set rolloutPolicy in the config (top level, per package or in a rule preset) to let rollout tick act`, ExitCode.usage);
  }
  if (rolling.length === 0) return { decisions: [], dryRun: context.dryRun };

  // One read of the receipts for every release, from the oldest release time on.
  const from = Math.min(...rolling.map(({ release }) => Date.parse(release.releasedAt)));
  const health = await readHealth(context, { channel, source: request.source, window: { from, to: now.getTime() } });

  const decisions: TickDecisionRecord[] = [];
  for (const { id, release, policy, stageStartedAt } of rolling) {
    const started = stageStartedAt;
    const releaseHealth = health.releases.find((entry) => entry.package === id && entry.version === release.version);
    const outcome = decideTick({ policy, rollout: release.rules.rollout, stageStartedAt: started, now, health: releaseHealth });
    const record: TickDecisionRecord = { package: id, version: release.version, channel, ...outcome };
    if (outcome.decision !== 'held') {
      const automatic = { evidence: outcome.evidence, now };
      await changeCurrentRelease(context, {
        channel,
        packageId: id,
        action: outcome.decision === 'halted' ? 'halt' : 'rollout',
        // Only while this release is the one served, as the evidence is about it.
        apply: (current) => (outcome.decision === 'halted' ? halt(current, id, release.version) : setRollout(current, id, outcome.to, release.version)),
        hooks: request.hooks,
        automatic,
      });
    }
    decisions.push(record);
  }
  return { decisions, dryRun: context.dryRun };
}
