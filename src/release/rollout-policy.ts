import { parseDuration } from '../duration.js';
import type { RolloutPolicy } from '../config/schema.js';
import type { ReleaseHealth } from '../protocol/receipt-counts.js';
import { failureRateOf } from '../protocol/receipt-counts.js';
import type { RolloutEvidence } from '../protocol/release-event.js';

/**
 * What `rollout tick` does with a release that is rolling out, decided by
 * one pure function of the policy, the release's rollout, when its stage
 * began and its receipts (hawkBit's success and error conditions, Capgo's
 * minimums): halting needs failures enough and an interval wholly above the
 * halt threshold; advancing needs the bake time, launches enough and an
 * interval wholly at or below the advance threshold.
 */
export type TickDecision = 'advanced' | 'held' | 'halted' | 'complete';

export interface TickInput {
  policy: RolloutPolicy;
  /** The release's rollout now (percent). */
  rollout: number;
  stageStartedAt: Date;
  now: Date;
  /** The release's receipts; undefined when there are none. */
  health: ReleaseHealth | undefined;
}

export interface TickOutcome {
  decision: TickDecision;
  from: number;
  to: number;
  reason: string;
  evidence: RolloutEvidence;
}

const pct = (rate: number) => `${Number((rate * 100).toFixed(2))} %`;

function waitText(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/** The next stage above `rollout` (a rollout set by hand between stages goes on from there). */
export const nextStage = (policy: RolloutPolicy, rollout: number) => policy.stages.find((stage) => stage > rollout) ?? 100;

export function decideTick(input: TickInput): TickOutcome {
  const { policy, rollout, health } = input;
  const launches = health?.launches ?? 0;
  const failures = (health?.launchFailed ?? 0) + (health?.rolledBack ?? 0);
  const rate = failureRateOf(failures, launches);
  const evidence: RolloutEvidence = { launches, failures, ...rate, stageStartedAt: input.stageStartedAt.toISOString() };
  const held = (reason: string): TickOutcome => ({ decision: 'held', from: rollout, to: rollout, reason, evidence });

  if (failures >= policy.minFailures && rate.failureRateLower * 100 >= policy.haltFailurePercent) {
    return {
      decision: 'halted',
      from: rollout,
      to: rollout,
      reason: `failure rate ${pct(rate.failureRate ?? 0)} (95 % interval ${pct(rate.failureRateLower)}–${pct(rate.failureRateUpper)}) is at or above haltFailurePercent ${policy.haltFailurePercent} % with ${failures} failures in ${launches} launches`,
      evidence,
    };
  }
  const bakeLeft = input.stageStartedAt.getTime() + parseDuration(policy.bake)! - input.now.getTime();
  if (bakeLeft > 0) return held(`baking at ${rollout} %: ${waitText(bakeLeft)} left of ${policy.bake}`);
  if (launches < policy.minLaunches) return held(`${policy.minLaunches - launches} more launches needed (${launches} of minLaunches ${policy.minLaunches})`);
  if (rate.failureRateUpper * 100 > policy.maxFailurePercent) {
    return held(
      `not yet conclusive: failure rate ${pct(rate.failureRate ?? 0)}, 95 % interval ${pct(rate.failureRateLower)}–${pct(rate.failureRateUpper)} reaches above maxFailurePercent ${policy.maxFailurePercent} %`,
    );
  }
  const to = nextStage(policy, rollout);
  return {
    decision: to >= 100 ? 'complete' : 'advanced',
    from: rollout,
    to,
    reason: `${launches} launches, failure rate ${pct(rate.failureRate ?? 0)} (upper bound ${pct(rate.failureRateUpper)} within maxFailurePercent ${policy.maxFailurePercent} %) after ${policy.bake} at ${rollout} %`,
    evidence,
  };
}
