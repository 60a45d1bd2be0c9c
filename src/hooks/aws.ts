import { awsClientSettings, type AwsClientSettings } from '../aws-settings.js';
import type { Environment } from '../environment.js';

/** Shared settings for the AWS hooks: optional region and endpoint; the rest from the run's environment or the SDK's chain. */
export interface AwsHookSettings {
  region?: string;
  endpoint?: string;
  timeoutMs?: number;
}

const DEFAULT_AWS_TIMEOUT_MS = 30_000;

/**
 * Client config of one service (its SDK service id): the hook's region (else
 * `defaultRegion`, e.g. the topic ARN's) and endpoint over the run's environment;
 * what neither gives is left out, so the SDK falls back to its own chain.
 */
export function awsClientConfig(hook: AwsHookSettings, env: Environment, serviceId: string, defaultRegion?: string): AwsClientSettings {
  return awsClientSettings(env, serviceId, { region: hook.region ?? defaultRegion, endpoint: hook.endpoint });
}

/** Per-call options: the whole call (SDK retries included) is bounded by the hook's timeout. */
export const awsCallOptions = (hook: AwsHookSettings) => ({
  abortSignal: AbortSignal.timeout(hook.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS),
});

/** " at http://127.0.0.1:5000" when an endpoint is set, for dry-run descriptions. */
export const endpointNote = (hook: AwsHookSettings) =>
  `${hook.region ? ` in ${hook.region}` : ''}${hook.endpoint ? ` at ${hook.endpoint}` : ''}`;
