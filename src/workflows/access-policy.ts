import type { Environment } from '../environment.js';
import type { Config } from '../config/schema.js';
import { configuredChannels } from '../config/schema.js';
import { parseS3Url } from '../config/s3-url.js';
import { envRefName } from '../env-ref.js';
import { UserError } from '../errors.js';
import { APP_RELEASES_PARTITION, SWITCHES_PARTITION } from '../hooks/dynamodb-items.js';
import { appReleasesKey, channelIndexKey, packagesPrefix, switchesKey } from '../protocol/layout.js';
import { whitelistsPrefix } from '../protocol/whitelist.js';

/** An IAM policy document (2012-10-17), as CreatePolicy and a role's inline policy take it. */
export interface IamPolicy {
  Version: '2012-10-17';
  Statement: {
    Sid: string;
    Effect: 'Allow';
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string[]>>;
  }[];
}

export interface CognitoPolicyOptions {
  /** s3://bucket/prefix: the store devices read (default: the config's). */
  store: string;
  /** Only this channel's documents (scope all); default every configured channel. */
  channel?: string;
  env: Environment;
}

/**
 * The policy of a Cognito identity pool's authenticated role, for devices
 * that read the store with the pool's temporary credentials: s3:GetObject on
 * what `access.scope` makes private (package objects; under `all` also the
 * channel documents and whitelists, never history or archive), and
 * dynamodb:GetItem on the dynamodb hook's table, limited to the partitions of
 * the current items devices read (GetItem alone: no Query or Scan, so only
 * items whose key a device knows). Pure: nothing is read but the environment.
 */
export function cognitoReadPolicy(config: Pick<Config, 'access' | 'hooks' | 'packages' | 'channel' | 'channels' | 's3'>, options: CognitoPolicyOptions): IamPolicy {
  if (!options.store.toLowerCase().startsWith('s3://')) {
    throw new UserError(`access policy --cognito is for devices reading S3 directly, and the store ${options.store} is not one; pass --store s3://bucket/prefix`);
  }
  const { bucket, prefix } = parseS3Url(options.store);
  const object = (key: string) => `arn:aws:s3:::${bucket}/${prefix ? `${prefix}/` : ''}${key}`;
  const scope = config.access?.scope ?? 'packages';
  const channels = options.channel ? [options.channel] : configuredChannels(config);
  const resources =
    scope === 'all'
      ? [object(`${packagesPrefix}*`), object(`${whitelistsPrefix}*`), ...channels.flatMap((channel) => [channelIndexKey(channel), switchesKey(channel), appReleasesKey(channel)].map(object))]
      : [object(`${packagesPrefix}*`)];
  const policy: IamPolicy = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'ReadStoreObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: resources }],
  };
  const table = config.hooks.find((hook) => hook.type === 'dynamodb');
  if (table && table.type === 'dynamodb') {
    const name = resolved(table.table, 'the dynamodb hook table', options.env);
    const region = table.region ?? config.s3?.region ?? options.env.AWS_REGION ?? '*';
    policy.Statement.push({
      Sid: 'ReadCurrentReleases',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem'],
      Resource: [`arn:aws:dynamodb:${region}:*:table/${name}`],
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...Object.keys(config.packages), SWITCHES_PARTITION, APP_RELEASES_PARTITION] } },
    });
  }
  return policy;
}

function resolved(value: string, what: string, env: Environment): string {
  const variable = envRefName(value);
  if (!variable) return value;
  const found = env[variable];
  if (!found) throw new UserError(`${what} is env:${variable}, which is not set; export it before running`);
  return found;
}
