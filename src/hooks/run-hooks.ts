import type { Environment } from '../environment.js';
import { ExitCode, UserError } from '../errors.js';
import { hookName, type HookConfig, type HookOf, type HookType } from '../config/hook-schema.js';
import { subjectLabel, subjectOf, type EventSubject, type HookContext, type HookHandler } from './context.js';
import { missingEnvRefs, resolveEnvRefs, scrubSecrets } from '../config/env-refs.js';
import type { HookEvent, HookEventName } from '../protocol/release-event.js';

export type HookStatus = 'ok' | 'failed' | 'skipped';

/** One hook run for one event; part of `--json`. Package events name `package` and `version`, document events `document` and `documentVersion`. */
export type HookResult = HookResultFields & EventSubject;

interface HookResultFields {
  name: string;
  type: string;
  event: HookEventName;
  status: HookStatus;
  required: boolean;
  /** What was done (ok), or in dry run the call that would have been made (skipped). */
  detail?: string;
  /** Why it failed; never contains a value read from the environment. */
  error?: string;
}

export interface RunHooksOptions {
  /** Describe every call, make none: each result is 'skipped' with the call as detail. */
  dryRun: boolean;
  /** Run only hooks of this type or name (`hooks run --only TYPE`). */
  only?: string;
  /** Progress lines: each result as it completes, and commands' output under the hook's name. */
  log: (line: string) => void;
  /** Aborted on Ctrl-C: the running hook is stopped and no further hook starts. */
  signal?: AbortSignal;
  /** The run's environment: `env:NAME` values, AWS settings, commands' variables. */
  env: Environment;
  /** The run's working folder, where command hooks run. */
  cwd: string;
}

// Loaded on first use: the AWS SDK clients cost about a second of start-up that most commands never need.
const HANDLERS: { [T in HookType]: () => Promise<HookHandler<HookOf<T>>> } = {
  cloudfront: async () => (await import('./cloudfront.js')).runCloudFrontHook,
  sns: async () => (await import('./sns.js')).runSnsHook,
  ses: async () => (await import('./ses.js')).runSesHook,
  dynamodb: async () => (await import('./dynamodb.js')).runDynamoDbHook,
  webhook: async () => (await import('./webhook.js')).runWebhookHook,
  command: async () => (await import('./command.js')).runCommandHook,
};

const dispatch = async (hook: HookConfig, event: HookEvent, context: HookContext) =>
  ((await HANDLERS[hook.type]()) as HookHandler<HookConfig>)(hook, event, context);

function selectHooks(hooks: HookConfig[], only: string | undefined): HookConfig[] {
  if (only === undefined) return hooks;
  const selected = hooks.filter((hook) => hook.type === only || hookName(hook) === only);
  if (selected.length === 0) {
    const configured = hooks.map(hookName).join(', ');
    throw new UserError(
      configured
        ? `no hook matches --only ${only}; configured hooks: ${configured}`
        : `no hooks are configured, so --only ${only} matches nothing; add a hooks entry to the config`,
    );
  }
  return selected;
}

/** One line, AWS error names kept ("NoSuchDistribution: …"). */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const named = ['Error', 'UserError'].includes(error.name) ? error.message : `${error.name}: ${error.message}`;
  return named.replace(/\s*\n\s*/g, ' ');
}

async function runOne(hook: HookConfig, event: HookEvent, options: RunHooksOptions): Promise<HookResult> {
  const name = hookName(hook);
  const base = { name, type: hook.type, event: event.event, ...subjectOf(event), required: hook.required };
  let secrets: string[] = [];
  const output = (line: string) => options.log(`  ${name} │ ${scrubSecrets(line, secrets)}`);
  try {
    if (options.dryRun) {
      // Described from the config as written, so env:NAME references show instead of their values.
      const detail = await dispatch(hook, event, { dryRun: true, output, env: options.env, cwd: options.cwd });
      const missing = missingEnvRefs(hook, options.env);
      const warning = missing.length ? ` (not set: ${missing.join(', ')} — the real run would fail)` : '';
      return { ...base, status: 'skipped', detail: `${detail}${warning}` };
    }
    const resolved = resolveEnvRefs(hook, options.env);
    secrets = resolved.secrets;
    const detail = await dispatch(resolved.value, event, { dryRun: false, output, signal: options.signal, env: options.env, cwd: options.cwd });
    return { ...base, status: 'ok', detail: scrubSecrets(detail, secrets) };
  } catch (error) {
    return { ...base, status: 'failed', error: scrubSecrets(errorText(error), secrets) };
  }
}

const STATUS_MARK: Record<HookStatus, string> = { ok: '✔', failed: '✖', skipped: '○' };

/** "✔ cloudfront · publish maps@1.2.0 — invalidation I2ABC for 1 path", "✔ cdn · switch channels/production/switches.json v7 — …" */
export function formatHookResult(result: HookResult): string {
  const optional = result.status === 'failed' && !result.required ? ' (optional)' : '';
  const what = result.status === 'failed' ? `failed${optional}: ${result.error}` : result.detail;
  return `${STATUS_MARK[result.status]} ${result.name} · ${result.event} ${subjectLabel(result)} — ${what}`;
}

/**
 * Runs each hook, in configured order, for every event it subscribes to. All
 * of one hook's events finish before the next hook starts (so a CDN purge
 * configured first precedes every notification). A failure never stops the
 * next hook and never undoes a release; see failedRequired for the exit code.
 */
export async function runHooks(hooks: HookConfig[], events: HookEvent[], options: RunHooksOptions): Promise<HookResult[]> {
  const results: HookResult[] = [];
  for (const hook of selectHooks(hooks, options.only)) {
    for (const event of events.filter((candidate) => hook.on.includes(candidate.event))) {
      if (options.signal?.aborted) return results;
      const result = await runOne(hook, event, options);
      options.log(formatHookResult(result));
      results.push(result);
    }
  }
  return results;
}

/** Failures that must fail the command. */
export const failedRequired = (results: HookResult[]) => results.filter((result) => result.status === 'failed' && result.required);

/** 4 when a required hook failed, else 0 (the release itself succeeded either way). */
export const hooksExitCode = (results: HookResult[]) => (failedRequired(results).length > 0 ? ExitCode.hookFailed : ExitCode.ok);
