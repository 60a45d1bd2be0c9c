import { readIndex } from '../channel/index-store.js';
import { ConflictError, UserError } from '../errors.js';
import type { Output } from '../output.js';
import { halt, resume, setRollout } from '../release/operations.js';
import { assertStillServable, buildRules, parseMessage } from '../release/rules.js';
import { parseSwitchValue, requireSwitchKey } from '../release/switch-operations.js';
import { changeCurrentRelease, editReleaseRules, rollbackRelease } from '../workflows/change-release.js';
import type { WorkflowContext } from '../workflows/context.js';
import { promoteRelease } from '../workflows/promote.js';
import { listSwitches, removeSwitchKey, setSwitchValue } from '../workflows/switches.js';
import { rolloutTick } from '../workflows/rollout-tick.js';

/**
 * The console's writes: `POST /api/<command>` with the fields the CLI command
 * takes, run through the same workflows as the CLI. Nothing here decides what
 * a change does; it only turns a request body into a workflow's arguments.
 */

/** What the page sends; every field is optional here and checked by the command that needs it. */
export interface ActionBody {
  channel?: string;
  package?: string;
  version?: string;
  percent?: number | string;
  to?: string;
  from?: string;
  message?: string;
  key?: string;
  value?: unknown;
  /** The index (or, for switches, the switches document) version the page showed: a change since is a conflict (409). */
  expectVersion?: number;
}

/** What the console hands each action: a workflow context made for this one request. */
export interface ActionRuntime {
  /** A context for one request: confirmation already given on the page, dry run as asked. */
  context(options: { dryRun: boolean; output: Output }): WorkflowContext;
  /** A channel the store or the config knows, else a usage error with "did you mean". */
  knownChannel(name: string): Promise<string>;
  /** The receipts source `advance` decides from (--receipts, else config receipts.source); absent: no advance. */
  receiptsSource?: string;
}

/** The page loaded an older version of the channel than the store has now. */
export class StaleViewError extends ConflictError {
  constructor(
    message: string,
    readonly current: number,
  ) {
    super(message);
    this.name = 'StaleViewError';
  }
}

const required = (body: ActionBody, field: keyof ActionBody): string => {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new UserError(`'${field}' is required`);
  return value;
};

async function expectIndexVersion(context: WorkflowContext, channel: string, expected: number | undefined): Promise<void> {
  if (expected === undefined) return;
  const { index } = await readIndex(context.store, channel);
  const current = index.version ?? 0;
  if (current !== expected) {
    throw new StaleViewError(`channel '${channel}' changed since this page loaded it (version ${expected}, now ${current}); reload to see what changed`, current);
  }
}

async function expectSwitchesVersion(context: WorkflowContext, channel: string, expected: number | undefined): Promise<void> {
  if (expected === undefined) return;
  const { documentVersion } = await listSwitches(context, channel);
  if (documentVersion !== expected) {
    throw new StaleViewError(`switches of '${channel}' changed since this page loaded them (version ${expected}, now ${documentVersion}); reload to see what changed`, documentVersion);
  }
}

type Action = (context: WorkflowContext, body: ActionBody, channel: string, runtime: ActionRuntime) => Promise<unknown>;

const currentReleaseAction =
  (action: 'rollout' | 'halt' | 'resume'): Action =>
  async (context, body, channel) => {
    const packageId = required(body, 'package');
    await expectIndexVersion(context, channel, body.expectVersion);
    const percent = body.percent;
    if (action === 'rollout' && (percent === undefined || percent === '')) throw new UserError("'percent' is required (0–100)");
    const apply =
      action === 'rollout'
        ? (index: Parameters<typeof halt>[0]) => setRollout(index, packageId, percent as number | string, body.version)
        : (index: Parameters<typeof halt>[0]) => (action === 'halt' ? halt : resume)(index, packageId, body.version);
    return changeCurrentRelease(context, { channel, packageId, action, apply, hooks: true });
  };

/** Each command the console offers, by the name in its URL. */
export const ACTIONS: Record<string, Action> = {
  rollout: currentReleaseAction('rollout'),
  halt: currentReleaseAction('halt'),
  resume: currentReleaseAction('resume'),
  async rollback(context, body, channel) {
    await expectIndexVersion(context, channel, body.expectVersion);
    return rollbackRelease(context, { channel, packageId: required(body, 'package'), to: body.to || undefined, hooks: true });
  },
  async edit(context, body, channel) {
    await expectIndexVersion(context, channel, body.expectVersion);
    const message = parseMessage(required(body, 'message'));
    return editReleaseRules(context, { channel, packageId: required(body, 'package'), version: body.version, patch: {}, provenance: { message }, hooks: true });
  },
  async promote(context, body, channel) {
    const from = required(body, 'from');
    if (from === channel) throw new UserError(`'from' and 'channel' are both '${from}'; promote copies a release to another channel`);
    await expectIndexVersion(context, channel, body.expectVersion);
    const rollout = body.percent === undefined || body.percent === '' ? undefined : String(body.percent);
    const rules = buildRules({ rollout }, context.config.rules);
    assertStillServable(rules);
    const { release: _release, ...result } = await promoteRelease(context, { packageId: required(body, 'package'), version: body.version, from, to: channel, rules, hooks: true });
    return result;
  },
  /** One `rollout tick` decision for one package: advanced to its policy's next stage, held (with why), halted or complete. */
  async advance(context, body, channel, runtime) {
    if (!runtime.receiptsSource) throw new UserError('advancing a stage decides from device receipts: start the console with --receipts <source> or set receipts.source in the config');
    await expectIndexVersion(context, channel, body.expectVersion);
    return rolloutTick(context, { channel, packageIds: [required(body, 'package')], source: runtime.receiptsSource, now: new Date(), hooks: true });
  },
  async 'switch-set'(context, body, channel) {
    const key = requireSwitchKey(required(body, 'key'));
    await expectSwitchesVersion(context, channel, body.expectVersion);
    // The page sends the value as typed (JSON text), like the CLI's <value>; a script may send JSON itself.
    // Either way it is checked as the CLI checks it (numbers a double holds, no lone surrogates, bounded nesting).
    if (body.value === undefined) throw new UserError("'value' is required (JSON, e.g. true, 42, \"blue\")");
    const value = parseSwitchValue(typeof body.value === 'string' ? body.value : JSON.stringify(body.value));
    return setSwitchValue(context, { channel, key, value, hooks: true });
  },
  async 'switch-rm'(context, body, channel) {
    const key = requireSwitchKey(required(body, 'key'));
    await expectSwitchesVersion(context, channel, body.expectVersion);
    return removeSwitchKey(context, { channel, key, hooks: true });
  },
};

/**
 * Runs one console command as `actor` (recorded in history and hook events).
 * `from` names a channel that must exist; the target `channel` must be known
 * to the store or the config, as on the command line.
 */
export async function runAction(
  runtime: ActionRuntime,
  command: string,
  body: ActionBody,
  options: { dryRun: boolean; output: Output; actor: string },
): Promise<unknown> {
  const action = ACTIONS[command];
  if (!action) throw new UserError(`'${command}' is not a console command; use one of ${Object.keys(ACTIONS).join(', ')}`);
  const channel = await runtime.knownChannel(required(body, 'channel'));
  if (body.from !== undefined) await runtime.knownChannel(body.from);
  const context = { ...runtime.context({ dryRun: options.dryRun, output: options.output }), actor: options.actor };
  return action(context, body, channel, runtime);
}
