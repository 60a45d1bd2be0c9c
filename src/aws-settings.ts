/**
 * What an AWS SDK client would read from the process's environment (region,
 * endpoint, credentials, profile), read from the run's environment instead
 * and handed to the client outright: runs in one process never share them.
 */
export interface AwsClientSettings {
  region?: string;
  endpoint?: string;
  /** Static keys when the environment holds them; otherwise the SDK's default chain finds them (with `profile`). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  profile?: string;
}

/** What the config says, where it says it: over the environment's. */
export interface ConfiguredAwsSettings {
  region?: string;
  endpoint?: string;
  profile?: string;
}

/**
 * The settings of one service's client (its SDK service id: `S3`, `SNS`,
 * `SESv2`, `DynamoDB`, `CloudFront`, `KMS`, `Athena`): the config's, else
 * `AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`, and
 * `AWS_PROFILE` or else `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
 * `AWS_SESSION_TOKEN`. What neither gives is left out: the SDK's own chain goes on.
 */
export function awsClientSettings(
  env: Readonly<Record<string, string | undefined>>,
  serviceId: string,
  configured: ConfiguredAwsSettings = {},
): AwsClientSettings {
  const region = configured.region ?? (env.AWS_REGION || undefined);
  // The SDK's own switch for the endpoint variables, honoured the same way.
  const endpointsIgnored = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true';
  const fromEnv = endpointsIgnored ? undefined : env[`AWS_ENDPOINT_URL_${serviceId.toUpperCase().replace(/ /g, '_')}`] || env.AWS_ENDPOINT_URL || undefined;
  const endpoint = configured.endpoint ?? fromEnv;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  // A profile (the config's, else AWS_PROFILE) goes over the key variables, as in the SDK's own chain.
  const profile = configured.profile ?? (env.AWS_PROFILE || undefined);
  const identity = profile
    ? { profile }
    : accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) } }
      : {};
  return { ...(region && { region }), ...(endpoint && { endpoint }), ...identity };
}
