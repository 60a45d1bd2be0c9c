/** Shared settings for the AWS hooks: the SDK's standard credential chain, optional region and endpoint. */
export interface AwsHookSettings {
  region?: string;
  endpoint?: string;
  timeoutMs?: number;
}

const DEFAULT_AWS_TIMEOUT_MS = 30_000;

/** Client config; unset fields are left out so the SDK falls back to its own chain (AWS_REGION, profiles…). */
export function awsClientConfig(hook: AwsHookSettings, defaultRegion?: string): { region?: string; endpoint?: string } {
  const region = hook.region ?? defaultRegion;
  return { ...(region ? { region } : {}), ...(hook.endpoint ? { endpoint: hook.endpoint } : {}) };
}

/** Per-call options: the whole call (SDK retries included) is bounded by the hook's timeout. */
export const awsCallOptions = (hook: AwsHookSettings) => ({
  abortSignal: AbortSignal.timeout(hook.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS),
});

/** " at http://127.0.0.1:5000" when an endpoint is set, for dry-run descriptions. */
export const endpointNote = (hook: AwsHookSettings) =>
  `${hook.region ? ` in ${hook.region}` : ''}${hook.endpoint ? ` at ${hook.endpoint}` : ''}`;
