/**
 * rollout tick's decision (src/release/rollout-policy.ts), a pure function of
 * the policy, the rollout, the stage's start, the clock and the receipts.
 */
import { describe, expect, it } from 'vitest';
import { rolloutPolicySchema } from '../../src/config/schema.js';
import { decideTick } from '../../src/release/rollout-policy.js';
import type { ReleaseHealth } from '../../src/protocol/receipt-counts.js';

const policy = rolloutPolicySchema.parse({ stages: [1, 5, 25, 100], bake: '2h', minLaunches: 100, maxFailurePercent: 1, haltFailurePercent: 5, minFailures: 5 });
const started = new Date('2027-01-01T00:00:00Z');
const at = (hours: number) => new Date(started.getTime() + hours * 3_600_000);
const health = (launchOk: number, launchFailed: number, rolledBack = 0) =>
  ({ launchOk, launchFailed, rolledBack, launches: launchOk + launchFailed + rolledBack }) as ReleaseHealth;
const decide = (rollout: number, hours: number, receipts?: ReleaseHealth) => decideTick({ policy, rollout, stageStartedAt: started, now: at(hours), health: receipts });

describe('decideTick', () => {
  it('never halts on a handful of devices, however bad their rate', () => {
    expect(decide(1, 0.5, health(0, 2, 2)).decision).toBe('held');
    expect(decide(1, 0.5, health(0, 3, 2)).decision).toBe('halted');
  });

  it('halts during the bake when the interval is wholly above the threshold', () => {
    const outcome = decide(5, 0.1, health(900, 60, 40));
    expect(outcome).toMatchObject({ decision: 'halted', from: 5, to: 5 });
    expect(outcome.evidence).toMatchObject({ launches: 1000, failures: 100, failureRate: 0.1, stageStartedAt: started.toISOString() });
  });

  it('holds for the bake, for launches, for an inconclusive interval; then advances stage by stage and completes at 100', () => {
    expect(decide(1, 1, health(5000, 0)).reason).toMatch(/baking at 1 %: 60 min left of 2h/);
    expect(decide(1, 3, health(50, 0)).reason).toMatch(/50 more launches needed \(50 of minLaunches 100\)/);
    expect(decide(1, 3, health(300, 3)).reason).toMatch(/not yet conclusive/);
    expect(decide(1, 3, health(3000, 3))).toMatchObject({ decision: 'advanced', from: 1, to: 5 });
    // A rollout set by hand between stages goes on from there.
    expect(decide(10, 3, health(3000, 3))).toMatchObject({ decision: 'advanced', from: 10, to: 25 });
    expect(decide(25, 3, health(3000, 3))).toMatchObject({ decision: 'complete', from: 25, to: 100 });
    // No receipts at all: held, with the interval wide open.
    expect(decide(1, 3, undefined)).toMatchObject({ decision: 'held', evidence: { launches: 0, failureRate: null, failureRateLower: 0, failureRateUpper: 1 } });
  });
});
